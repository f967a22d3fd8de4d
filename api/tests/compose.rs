//! docker-compose.yml and the Dockerfile read against the binaries: Docker cannot run in
//! CI, so these checks keep the deployment files true. Every `STAFFROOM_*` and
//! `PROVIDER_SIM_*` variable they set is one a binary reads, every command they run parses
//! as that binary's command line, every service has a health check, and what a browser
//! must reach is published at the address the links name.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use clap::{CommandFactory, Parser};
use serde_norway::Value;
use staffroom_api::cli::Cli;
use staffroom_connectors::sim::SimArgs;

const COMPOSE: &str = include_str!("../../docker-compose.yml");
const DOCKERFILE: &str = include_str!("../../Dockerfile");

/// The compose file with its `<<:` merges applied.
fn compose() -> Value {
    let mut value: Value = serde_norway::from_str(COMPOSE).unwrap();
    value.apply_merge().unwrap();
    value
}

fn services() -> Vec<(String, Value)> {
    compose()["services"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(name, service)| (name.as_str().unwrap().to_owned(), service.clone()))
        .collect()
}

/// `text` with compose interpolation resolved to the defaults: `${X:-default}` is
/// `default`, `${X:?message}` a placeholder (the variable is required), `${X}` empty.
fn with_defaults(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').unwrap() + start;
        let inner = &rest[start + 2..end];
        if let Some((_, default)) = inner.split_once(":-") {
            out.push_str(default);
        } else if inner.contains(":?") {
            out.push_str("required-value-required-value-required");
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .map(|items| {
            items
                .iter()
                .map(|item| with_defaults(item.as_str().unwrap()))
                .collect()
        })
        .unwrap_or_default()
}

/// The variables every flag of `command` and its subcommands reads.
fn variables_of(command: &clap::Command) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = command
        .get_arguments()
        .filter_map(|arg| arg.get_env())
        .map(|env| env.to_string_lossy().into_owned())
        .collect();
    for sub in command.get_subcommands() {
        names.extend(variables_of(sub));
    }
    names
}

/// Parses `argv` as the command line of the binary it names; the error says why not.
fn parses(argv: &[String]) -> Result<(), String> {
    let program = argv[0].rsplit('/').next().unwrap();
    match program {
        "staffroom" => Cli::try_parse_from(argv).map(drop),
        "provider-sim" => SimArgs::try_parse_from(argv).map(drop),
        other => return Err(format!("not one of our binaries: {other}")),
    }
    .map_err(|e| e.to_string())
}

/// Whether the service runs our image.
fn ours(service: &Value) -> bool {
    service["image"].as_str() == Some("staffroom:local")
}

#[test]
fn every_service_has_a_health_check() {
    for (name, service) in services() {
        let check = &service["healthcheck"];
        let disabled = check["disable"].as_bool() == Some(true);
        assert!(
            disabled || !strings(&check["test"]).is_empty(),
            "service {name} has no healthcheck"
        );
        if disabled {
            assert_eq!(
                service["restart"].as_str(),
                Some("no"),
                "only a one-shot job ({name}) may go unchecked"
            );
        }
    }
}

#[test]
fn compose_sets_only_variables_the_binaries_read() {
    let known: BTreeSet<String> = variables_of(&Cli::command())
        .into_iter()
        .chain(variables_of(&SimArgs::command()))
        .collect();
    let mut checked = 0;
    for (name, service) in services().into_iter().filter(|(_, s)| ours(s)) {
        for key in service["environment"].as_mapping().unwrap().keys() {
            let key = key.as_str().unwrap();
            if key.starts_with("STAFFROOM_") || key.starts_with("PROVIDER_SIM_") {
                assert!(known.contains(key), "service {name} sets unknown {key}");
                checked += 1;
            }
        }
    }
    assert!(checked > 10, "only {checked} variables found");
}

#[test]
fn compose_and_the_image_run_commands_that_exist() {
    for (name, service) in services().into_iter().filter(|(_, s)| ours(s)) {
        let entrypoint = strings(&service["entrypoint"]);
        let mut argv = if entrypoint.is_empty() {
            vec!["staffroom".to_owned()]
        } else {
            entrypoint
        };
        argv.extend(strings(&service["command"]));
        parses(&argv).unwrap_or_else(|e| panic!("service {name} runs {argv:?}: {e}"));
        let check = strings(&service["healthcheck"]["test"]);
        if check.first().map(String::as_str) == Some("CMD")
            && let Err(e) = parses(&check[1..])
        {
            panic!("the health check of {name} runs {check:?}: {e}");
        }
    }

    let dockerfile = DOCKERFILE.replace("\\\n", " ");
    let instruction = |keyword: &str| -> Vec<String> {
        let line = dockerfile
            .lines()
            .find(|line| line.starts_with(keyword))
            .unwrap_or_else(|| panic!("no {keyword} in the Dockerfile"));
        let json = &line[line.find('[').unwrap()..=line.rfind(']').unwrap()];
        serde_json::from_str(json).unwrap()
    };
    let mut argv = instruction("ENTRYPOINT");
    argv.extend(instruction("CMD"));
    parses(&argv).unwrap_or_else(|e| panic!("the image runs {argv:?}: {e}"));
    let check = instruction("HEALTHCHECK");
    parses(&check).unwrap_or_else(|e| panic!("the image checks with {check:?}: {e}"));
}

/// The port of the host side of a `HOST:CONTAINER` publication, defaults applied.
fn published(service: &Value) -> Vec<String> {
    strings(&service["ports"])
        .iter()
        .map(|mapping| mapping.split(':').next().unwrap().to_owned())
        .collect()
}

fn port_of(url: &str) -> String {
    url.rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_owned()
}

#[test]
fn what_a_browser_must_reach_is_published_where_the_links_point() {
    let compose = compose();
    let services = &compose["services"];
    let env = |service: &str, key: &str| {
        with_defaults(services[service]["environment"][key].as_str().unwrap())
    };
    // Invitation links: the API's public URL is the proxy's published port.
    let api_public = env("api", "STAFFROOM_PUBLIC_URL");
    assert!(
        published(&services["proxy"]).contains(&port_of(&api_public)),
        "{api_public} is not published by the proxy"
    );
    // Exercise launch links: the simulator's public URL is its published port.
    let sim_public = env("provider-sim", "PROVIDER_SIM_PUBLIC_URL");
    assert!(
        published(&services["provider-sim"]).contains(&port_of(&sim_public)),
        "{sim_public} is not published by provider-sim"
    );
}
