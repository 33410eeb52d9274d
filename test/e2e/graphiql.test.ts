// GraphiQL's first run in real Chromium (Debian's /usr/bin/chromium driven by playwright-core; .ci/run installs
// it): the page asks for a key before anything runs, the admin key's first query creates an account, that
// account's key runs its own first query, Docs load, a new tab keeps the key. Screenshots go to this run's folder.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpServer } from "../../src/app.ts";
import { ADMIN_KEY, startTestGateway, type TestGateway } from "../support/gateway.ts";

const CHROMIUM = "/usr/bin/chromium";
// Bounds for what the page does on its own (a loaded machine is slow to run a 9 MB page).
const WAIT = { timeout: 60_000, interval: 250 };
let gw: TestGateway;
let server: Server;
let url: string;
let browser: Browser;
let shots: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  gw = await startTestGateway("graphiql");
  server = createHttpServer(gw.services).listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/graphql`;
  shots = mkdtempSync(path.join(tmpdir(), "mvg-graphiql-"));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  server?.close();
  await gw?.close();
  if (shots) rmSync(shots, { recursive: true, force: true });
});

/** The GraphQL requests the page sends, with the Authorization header each carried. */
function watchRequests(page: Page) {
  const sent: { authorization?: string; body: string }[] = [];
  page.on("request", (request) => {
    if (request.method() === "POST" && request.url() === url) {
      sent.push({ authorization: request.headers().authorization, body: request.postData() ?? "" });
    }
  });
  return sent;
}

async function enterKey(page: Page, key: string) {
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Use this key" }).click();
  await page.locator(".graphiql-container").first().waitFor();
}

/** Waits until the query editor shows `text` (GraphiQL fills it after it starts). */
async function editorShows(page: Page, text: string) {
  const editor = page.locator(".graphiql-query-editor").last();
  await expect.poll(async () => (await editor.innerText()).replace(/\u00a0/g, " "), WAIT).toContain(text);
}

/** Runs the editor's query and returns the response pane's text once it shows a result. */
async function run(page: Page): Promise<string> {
  await page.locator(".graphiql-execute-button").click();
  const response = page.locator(".result-window, .graphiql-response").first();
  await expect.poll(async () => (await response.innerText()).trim().length, WAIT).toBeGreaterThan(2);
  // The editor renders spaces as no-break spaces.
  return (await response.innerText()).replace(/\u00a0/g, " ");
}

describe("GraphiQL first run (Chromium)", () => {
  it("asks for a key first, then runs the first query for the admin key and for an account key, with Docs", async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    // GraphiQL is one 9 MB page; a loaded machine takes a while to parse it.
    context.setDefaultTimeout(120_000);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    const sent = watchRequests(page);

    await page.goto(url, { waitUntil: "domcontentloaded" });
    await page.getByLabel("API key").waitFor();
    await page.screenshot({ path: path.join(shots, "1-key.png") });
    expect(sent).toEqual([]); // nothing ran before a key was given

    // A wrong key is refused on the form, plainly.
    await page.getByLabel("API key").fill("mvg_wrong");
    await page.getByRole("button", { name: "Use this key" }).click();
    await expect
      .poll(() => page.locator("#mvg-key-message").innerText(), WAIT)
      .toMatch(/refused that key \(HTTP 401\)/);

    // The admin key: its first query creates an account and shows its key.
    await enterKey(page, ADMIN_KEY);
    await editorShows(page, "mutation CreateAccount");
    const adminResult = await run(page);
    expect(adminResult).toContain('"apiKey"');
    const apiKey = /"apiKey": "([^"]+)"/.exec(adminResult)?.[1] ?? "";
    expect(apiKey).toMatch(/^mvg_/);
    await page.screenshot({ path: path.join(shots, "2-admin.png") });

    // Change to the account's key: its first query reads the account.
    await page.getByRole("button", { name: "Change API key" }).click();
    await enterKey(page, apiKey);
    await editorShows(page, "query FirstLook");
    const accountResult = await run(page);
    expect(accountResult).toContain('"name": "acme"');
    expect(accountResult).toContain('"totalCount": 0');
    expect(accountResult).not.toContain('"errors"');

    // Docs list the schema with no refetch.
    await page.locator('[aria-label="Show Documentation Explorer"]').click();
    const docs = page.locator(".graphiql-doc-explorer");
    await expect.poll(() => docs.innerText(), WAIT).toMatch(/Query/);
    expect(await docs.innerText()).not.toMatch(/Error fetching schema/i);
    await page.screenshot({ path: path.join(shots, "3-account-docs.png") });
    expect(existsSync(path.join(shots, "3-account-docs.png"))).toBe(true);

    // A new tab sends the same key.
    const tabs = page.locator(".graphiql-tab-button");
    const tabsBefore = await tabs.count();
    await page.locator(".graphiql-tab-add").click();
    // The new tab is open before typing: on a loaded machine the text could otherwise join FirstLook's document
    // (GraphiQL then answers "Cannot infer operation FirstLook"). Select-all: whatever the new tab starts with goes.
    await expect.poll(() => tabs.count(), WAIT).toBeGreaterThan(tabsBefore);
    const before = sent.length;
    await page.locator(".graphiql-query-editor .monaco-editor").last().click();
    await page.keyboard.press("ControlOrMeta+A");
    await page.keyboard.insertText("query NewTab { viewer { name } }");
    await editorShows(page, "query NewTab { viewer { name } }");
    // GraphiQL reads the operation out of the document after a debounce; a run before that sends the previous tab's
    // operation name ("Cannot infer operation FirstLook"). The tab is titled after the operation once it has read it.
    await expect.poll(() => tabs.last().innerText(), WAIT).toContain("NewTab");
    expect(await run(page)).toContain('"name": "acme"');
    expect(sent.length).toBeGreaterThan(before);
    expect(sent.slice(before).map((request) => request.authorization)).toContain(`Bearer ${apiKey}`);
    expect(sent.slice(before).every((request) => request.authorization === `Bearer ${apiKey}`)).toBe(true);
    await page.screenshot({ path: path.join(shots, "4-new-tab.png") });
    // Every request after the key was set carried one.
    expect(
      sent.filter(
        (request) =>
          !request.authorization?.startsWith("Bearer mvg_") && request.authorization !== `Bearer ${ADMIN_KEY}`,
      ),
    ).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  }, 480_000);
});
