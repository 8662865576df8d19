// Redoes an inclusion proof in the browser, from the values printed on the page alone, with the browser's own
// cryptography (WebCrypto: SHA-256 and Ed25519): the leaf hash from the leaf's data, the payload's hash inside it,
// each step's side (from the leaf's index and the tree's size, RFC 9162 section 2.1.3.2) and node, the root, the
// message the checkpoint's signature covers and the signature itself. None of the server's conclusions is read.
// Without JavaScript the page still shows the server's computation.

const page = document.getElementById("proof");
const status = document.getElementById("browser-check");
const again = document.getElementById("check-again");
const utf8 = new TextEncoder();

const byId = (id) => document.getElementById(id);
const shown = (element) => (element ? element.textContent.trim() : null);

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

function unhex(text) {
  if (!/^([0-9a-f]{2})*$/.test(text)) throw new Error(`not a hexadecimal value: ${text.slice(0, 20)}`);
  return Uint8Array.from(text.match(/../g) || [], (pair) => parseInt(pair, 16));
}

async function sha256(...parts) {
  const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.length;
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", joined));
}

// RFC 9162 section 2.1.3.2: which side each sibling lies on, from the leaf's index and the tree's size alone
// (null when a proof of this many steps cannot belong to that leaf).
function sides(index, size, steps) {
  let fn = BigInt(index);
  let sn = BigInt(size) - 1n;
  const out = [];
  for (let i = 0; i < steps; i += 1) {
    if (sn === 0n) return null;
    if (fn % 2n === 1n || fn === sn) {
      out.push("left");
      while (fn % 2n === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      out.push("right");
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n ? out : null;
}

function mark(check, ok, why) {
  for (const element of document.querySelectorAll(`[data-check="${check}"]`)) {
    element.className = `govuk-tag govuk-tag--${ok ? "green" : "red"} app-browser-check`;
    element.textContent = ok ? "Verified" : `Does not match: ${why}`;
    element.dataset.result = ok ? "verified" : "failed";
  }
  return ok;
}

function report(result, heading, detail) {
  status.dataset.result = result;
  const colour = { verified: "green", failed: "red", unsigned: "yellow", unsupported: "grey" }[result];
  status.replaceChildren();
  const line = document.createElement("p");
  line.className = "govuk-body";
  const tag = document.createElement("strong");
  tag.className = `govuk-tag govuk-tag--${colour}`;
  tag.textContent = heading;
  line.append(tag, ` ${detail}`);
  status.append(line);
}

async function publicKey(pem) {
  const body = pem.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, "").replace(/\s+/g, "");
  const der = Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
  return crypto.subtle.importKey("spki", der, { name: "Ed25519" }, false, ["verify"]);
}

async function check() {
  const failures = [];
  const expect = (check, ok, why) => mark(check, ok, why) || failures.push(check);
  const leafData = byId("leaf-data").textContent;
  const index = page.dataset.leafIndex;
  const size = page.dataset.treeSize;

  // 1. The payload as stored hashes to the value the leaf's data holds for it.
  let fields = null;
  try {
    fields = JSON.parse(leafData);
  } catch {
    fields = null;
  }
  const payload = byId("payload");
  if (payload) {
    const digest = hex(await sha256(utf8.encode(payload.textContent)));
    expect("payload", fields !== null && digest === fields[fields.length - 1], "its SHA-256 is not in the leaf");
  }

  // 2. The leaf hash from the leaf's data, and the one the log holds.
  const leaf = await sha256(new Uint8Array([0]), utf8.encode(leafData));
  const leafOk = fields !== null && String(fields[0]) === page.dataset.position && hex(leaf) === shown(byId("leaf-hash"));
  expect("leaf-hash", leafOk, "SHA-256(0x00 ‖ leaf data) differs");
  expect("logged-leaf-hash", hex(leaf) === shown(byId("logged-leaf-hash")), "the log holds another leaf");

  // 3. Each step up the audit path: the side from the index and size, the node from the hash so far.
  const rows = Array.from(document.querySelectorAll("[data-step]"));
  const expected = sides(index, size, rows.length);
  let node = leaf;
  for (const [i, row] of rows.entries()) {
    const side = shown(row.querySelector("[data-side]"));
    const sibling = unhex(shown(row.querySelector("[data-sibling]")));
    node = side === "left" ? await sha256(new Uint8Array([1]), sibling, node) : await sha256(new Uint8Array([1]), node, sibling);
    const sideOk = expected !== null && expected[i] === side;
    const nodeOk = hex(node) === shown(row.querySelector("[data-node]"));
    expect(`step-${row.dataset.step}`, sideOk && nodeOk, sideOk ? "the node differs" : "the sibling is on the other side");
  }
  if (expected === null) failures.push("path-length");
  expect("computed-root", hex(node) === shown(byId("computed-root")), "the steps lead elsewhere");

  // 4. The signed root, the message its signature covers, and the signature under the ledger's public key.
  const signedRoot = shown(byId("signed-root"));
  if (signedRoot === null) {
    report(
      failures.length ? "failed" : "unsigned",
      failures.length ? "Not verified" : "Not signed yet",
      failures.length
        ? `A step does not match (${failures.join(", ")}).`
        : "Every step matches, but no signed checkpoint covers this event yet.",
    );
    return;
  }
  expect("signed-root", hex(node) === signedRoot && shown(byId("checkpoint-size")) === size, "not the root reached");
  const message = `probation-ledger checkpoint\n${shown(byId("checkpoint-size"))}\n${signedRoot}\n${shown(byId("signed-at"))}\n`;
  expect("signed-message", message === byId("signed-message").textContent, "not made from the values shown");
  let valid = false;
  try {
    const key = await publicKey(byId("public-key").textContent);
    valid = await crypto.subtle.verify({ name: "Ed25519" }, key, unhex(shown(byId("signature"))), utf8.encode(message));
  } catch (error) {
    valid = false;
  }
  expect("signature", valid, "not a signature of this message by this key");
  if (failures.length) {
    report("failed", "Not verified", `Your browser found ${failures.length} value${failures.length === 1 ? "" : "s"} that do not match (marked below).`);
  } else {
    report("verified", "Verified", "Your browser recomputed every step from the values on this page: the event leads to the root the ledger signed, and the signature is valid under its public key.");
  }
}

async function run() {
  if (!window.crypto || !crypto.subtle) {
    report("unsupported", "Not checked", "Your browser cannot check this proof here: it needs a secure (HTTPS) connection.");
    return;
  }
  try {
    await check();
  } catch (error) {
    report("failed", "Not verified", `Your browser could not redo the check: ${error.message}`);
  }
}

if (page && status) {
  again.hidden = false;
  again.addEventListener("click", run);
  run();
}
