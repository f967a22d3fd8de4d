//! `docs/errors.md` is generated from `ProblemCode`; this fails when the committed page
//! differs. `STAFFROOM_WRITE_ERRORS_PAGE=1` rewrites it instead.

use std::path::PathBuf;

use staffroom_domain::ProblemCode;

#[test]
fn docs_errors_page_is_generated_from_the_codes() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/errors.md");
    let generated = ProblemCode::reference_page();
    if std::env::var_os("STAFFROOM_WRITE_ERRORS_PAGE").is_some() {
        std::fs::write(&path, &generated).expect("docs/errors.md is writable");
    }
    let committed = std::fs::read_to_string(&path).expect("docs/errors.md exists");
    assert!(
        committed == generated,
        "docs/errors.md differs from ProblemCode::reference_page(); regenerate it with \
         STAFFROOM_WRITE_ERRORS_PAGE=1 cargo test -p staffroom-domain --test errors_page"
    );
}
