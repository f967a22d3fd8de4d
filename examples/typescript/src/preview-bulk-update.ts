// Logs in to Staffroom, lists the site's non-clinical users page by page, and previews
// (a dry run) giving all of them the `manage_schedule` permission in one bulk update. The
// calls are typed by the types openapi-typescript generates from openapi/openapi.json, so
// a request or an answer that drifts from the contract fails the type check.
//
//   STAFFROOM_URL=http://127.0.0.1:8080 STAFFROOM_EMAIL=… STAFFROOM_PASSWORD=… npm start
//
// The defaults are a local `staffroom serve --demo`. Anything unexpected throws, so the
// process exits with status 1.

import createClient from "openapi-fetch";
import type { components, paths } from "../generated/staffroom.js";

type UserView = components["schemas"]["UserView"];
type BulkReport = components["schemas"]["BulkReport"];
type Problem = components["schemas"]["Problem"];

const PERMISSION: components["schemas"]["Permission"] = "manage_schedule";
const PAGE_SIZE = 2;

const baseUrl = process.env.STAFFROOM_URL ?? "http://127.0.0.1:8080";
const email = process.env.STAFFROOM_EMAIL ?? "admin@demo.staffroom.test";
const password = process.env.STAFFROOM_PASSWORD ?? "staffroom-demo";

const api = createClient<paths>({ baseUrl });

/** Stops the program with what was asked and what came back. */
function fail(what: string, status: number, problem?: Problem): never {
  const detail = problem ? `${problem.code}: ${problem.detail ?? problem.title}` : "no problem document";
  throw new Error(`${what} answered ${status} (${detail})`);
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) {
    throw new Error(message);
  }
}

async function logIn(): Promise<string> {
  const { data, error, response } = await api.POST("/v1/auth/login", {
    body: { email, password },
  });
  if (!data) fail("POST /v1/auth/login", response.status, error);
  check(data.token_type === "Bearer", `token type ${data.token_type}`);
  // Null only in a replay of a login sent with an Idempotency-Key; this one sends none.
  const token = data.access_token;
  check(typeof token === "string", "the login answered no token");
  return token;
}

/** Every non-clinical user, following `next_cursor` until the last page. */
async function listNonClinicalUsers(): Promise<UserView[]> {
  const users: UserView[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const { data, error, response } = await api.GET("/v1/users", {
      params: {
        query: { user_type: "non_clinical", limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) },
      },
    });
    if (!data) fail("GET /v1/users", response.status, error);
    check(data.items.length <= PAGE_SIZE, `a page of ${data.items.length} users`);
    users.push(...data.items);
    cursor = data.next_cursor ?? undefined;
    pages += 1;
  } while (cursor);
  console.log(`listed ${users.length} non-clinical users, ${PAGE_SIZE} a page: ${pages} page(s)`);
  return users;
}

async function previewGrant(): Promise<BulkReport> {
  const { data, error, response } = await api.POST("/v1/users/bulk-update", {
    body: {
      filter: { user_type: "non_clinical" },
      select_all: true,
      add_permissions: [PERMISSION],
      dry_run: true,
    },
  });
  if (!data) fail("POST /v1/users/bulk-update", response.status, error);
  return data;
}

const token = await logIn();
api.use({
  onRequest({ request }) {
    request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
});

const users = await listNonClinicalUsers();
check(users.every((user) => user.user_type === "non_clinical"), "a clinical user in the list");
check(new Set(users.map((user) => user.id)).size === users.length, "a user listed twice");
const lacking = users.filter((user) => !user.permissions.includes(PERMISSION)).length;

const report = await previewGrant();
check(report.dry_run, "the preview was not a dry run");
check(report.outcome === "success", `outcome ${report.outcome}`);
check(report.selected === users.length, `selected ${report.selected}, listed ${users.length}`);
check(report.permissions.applied === lacking, `would apply ${report.permissions.applied}, ${lacking} lack it`);
check(report.permissions.no_op === users.length - lacking, `no-ops ${report.permissions.no_op}`);
check(report.refusals.length === 0, `refusals ${JSON.stringify(report.refusals)}`);
console.log(
  `preview: ${report.outcome}; ${report.permissions.applied} of ${report.selected} users would get ${PERMISSION}`,
);

const after = await listNonClinicalUsers();
const stillLacking = after.filter((user) => !user.permissions.includes(PERMISSION)).length;
check(stillLacking === lacking, `the dry run changed permissions: ${lacking} then ${stillLacking} lack it`);
console.log("the dry run wrote nothing");
