// Drives the official Dub TypeScript SDK against a running codeqr server and
// checks what every method returns. The SDK validates each response against
// its own schema, so a check fails both on a wrong value and on a response
// shape the SDK refuses.
//
//   CODEQR_URL=http://127.0.0.1:8080 CODEQR_KEY=codeqr_… node sdk.mjs
//
// Prints one line per check ("ok …" or "FAIL …") and ends with
// "N passed, N failed"; the exit status is 1 when any check failed.
import assert from "node:assert/strict";
import { Dub } from "dub";

const base = process.env.CODEQR_URL;
const token = process.env.CODEQR_KEY;
if (!base || !token) {
  console.error("set CODEQR_URL and CODEQR_KEY");
  process.exit(2);
}
const host = new URL(base).host; // the server's own short domain, with its port
const dub = new Dub({ token, serverURL: `${base}/api` });

let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok ${name}`);
  } catch (err) {
    failed++;
    let detail = err?.rawResponse ? ` (HTTP ${err.statusCode}: ${String(err.body ?? "").slice(0, 400)})` : "";
    if (err?.cause?.issues) detail += ` issues: ${JSON.stringify(err.cause.issues.slice(0, 5))}`;
    console.log(`FAIL ${name}: ${err?.message ?? err}${detail}`.replace(/\n/g, "\n     "));
  }
}

// notOffered checks that a method of a feature codeqr does not have fails
// with a clear error in the documented format (404 or 501, error.code and
// error.message), not with a crash or a made-up success.
async function notOffered(name, fn) {
  await check(`${name} is refused clearly`, async () => {
    let err;
    try {
      await fn();
    } catch (e) {
      err = e;
    }
    assert.ok(err, "the call succeeded");
    assert.ok([404, 501].includes(err.statusCode), `status ${err.statusCode}, want 404 or 501: ${err.message}`);
    const body = JSON.parse(err.body);
    assert.equal(typeof body.error?.code, "string");
    assert.equal(err.statusCode, 501);
    assert.equal(body.error.code, "not_implemented");
    assert.match(body.error.message, /not offered by codeqr/);
  });
}

const run = Date.now().toString(36);

// api calls the server directly, for what the SDK cannot show (it strips
// fields its schemas lack, and its links.count accepts only a number).
async function api(path) {
  const resp = await fetch(`${base}/api${path}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(resp.status, 200, `${path}: HTTP ${resp.status}`);
  return resp.json();
}
const iso = (s) => assert.ok(!Number.isNaN(Date.parse(s)), `${s} is not a time`);

// ---- tags
let tag;
await check("tags.create", async () => {
  tag = await dub.tags.create({ name: `sdk-${run}`, color: "green" });
  assert.match(tag.id, /^tag_/);
  assert.equal(tag.name, `sdk-${run}`);
  assert.equal(tag.color, "green");
});
await check("tags.list", async () => {
  const tags = await dub.tags.list({});
  assert.ok(tags.some((t) => t.id === tag.id && t.color === "green"));
});
await check("tags.update", async () => {
  const t = await dub.tags.update(tag.id, { name: `sdk2-${run}`, color: "red" });
  assert.equal(t.id, tag.id);
  assert.equal(t.name, `sdk2-${run}`);
  assert.equal(t.color, "red");
});

// ---- domains
const domainSlug = `sdk-${run}.example.com`;
await check("domains.create", async () => {
  const d = await dub.domains.create({ slug: domainSlug, expiredUrl: "https://example.com/expired", archived: false });
  assert.equal(d.slug, domainSlug);
  assert.equal(d.expiredUrl, "https://example.com/expired");
  assert.equal(d.archived, false);
  assert.equal(d.verified, true);
  assert.equal(d.registeredDomain, null);
  iso(d.createdAt);
  iso(d.updatedAt);
});
await check("domains.create of the server's own domain (with its port) is a clear 422", async () => {
  let err;
  try {
    await dub.domains.create({ slug: host });
  } catch (e) {
    err = e;
  }
  assert.ok(err, "accepted");
  assert.equal(err.statusCode, 422, err.message);
  assert.match(JSON.parse(err.body).error.message, /own domain/);
});
await check("domains.list", async () => {
  const res = await dub.domains.list({});
  const all = res.result;
  assert.ok(all.some((d) => d.slug === domainSlug), "created domain missing");
});
await check("domains.update", async () => {
  const d = await dub.domains.update(domainSlug, { archived: true, notFoundUrl: "https://example.com/404" });
  assert.equal(d.slug, domainSlug);
  assert.equal(d.archived, true);
  assert.equal(d.notFoundUrl, "https://example.com/404");
  assert.equal(d.expiredUrl, "https://example.com/expired");
});

// ---- links
let link;
await check("links.create", async () => {
  link = await dub.links.create({
    url: "https://example.com/sdk",
    domain: host,
    key: `sdk-${run}`,
    externalId: `ext-${run}`,
    tagNames: [`sdk2-${run}`],
    folderId: "fold_1",
    title: "SDK link",
    utmSource: "newsletter",
    trackConversion: true,
  });
  assert.match(link.id, /^link_/);
  assert.equal(link.domain, host);
  assert.equal(link.key, `sdk-${run}`);
  assert.equal(link.shortLink, `${base}/sdk-${run}`);
  assert.equal(link.externalId, `ext-${run}`);
  assert.equal(link.folderId, "fold_1");
  assert.equal(link.utmSource, "newsletter");
  assert.equal(link.password, null);
  assert.equal(link.tenantId, null);
  assert.equal(link.disabledAt, null);
  assert.equal(link.tags?.[0]?.id, tag.id);
  assert.equal(link.tagId, tag.id);
  assert.deepEqual(link.webhookIds, []);
  assert.equal(typeof link.workspaceId, "string");
  assert.equal(link.clicks, 0);
});
await check("links.get by id", async () => {
  const l = await dub.links.get({ linkId: link.id });
  assert.equal(l.id, link.id);
  assert.equal(l.url, "https://example.com/sdk");
});
await check("links.get by externalId", async () => {
  const l = await dub.links.get({ externalId: `ext-${run}` });
  assert.equal(l.id, link.id);
});
await check("links.get by domain and key", async () => {
  const l = await dub.links.get({ domain: host, key: `sdk-${run}` });
  assert.equal(l.id, link.id);
});
await check("links.update", async () => {
  const l = await dub.links.update(link.id, { url: "https://example.com/sdk2", password: "hunter22", folderId: null });
  assert.equal(l.url, "https://example.com/sdk2");
  assert.equal(l.password, null, "the password is never sent");
  assert.equal((await api(`/links/${link.id}`)).passwordProtected, true);
  assert.equal(l.folderId, null);
});
await check("links.update by ext_<externalId>", async () => {
  const l = await dub.links.update(`ext_ext-${run}`, { password: null, folderId: "fold_1" });
  assert.equal(l.id, link.id);
  assert.equal(l.folderId, "fold_1");
  assert.equal((await api(`/links/${link.id}`)).passwordProtected, false);
});
await check("links.list", async () => {
  const res = await dub.links.list({ search: `sdk-${run}` });
  assert.ok(res.result.some((l) => l.id === link.id));
});
await check("links.list by tagNames and folderId", async () => {
  const res = await dub.links.list({ tagNames: `sdk2-${run}` });
  assert.deepEqual(res.result.map((l) => l.id), [link.id]);
});
let bulk;
await check("links.createMany", async () => {
  bulk = await dub.links.createMany([
    { url: "https://example.com/b1", key: `b1-${run}`, folderId: "fold_2" },
    { url: "https://example.com/b2", key: `b2-${run}` },
  ]);
  assert.equal(bulk.length, 2);
  assert.equal(bulk[0].key, `b1-${run}`);
  assert.equal(bulk[0].folderId, "fold_2");
  assert.equal(bulk[1].key, `b2-${run}`);
});
await check("links.count", async () => {
  const n = await dub.links.count({ search: `-${run}` });
  assert.equal(n, 3);
});
// This SDK version types links.count as a number only; Dub's API (and
// codeqr's) answers an array of groups with groupBy, read here directly.
await check("links.count filtered by folderId", async () => {
  assert.equal(await dub.links.count({ folderId: "fold_2" }), 1);
});
await check("GET /links/count grouped by folderId", async () => {
  const rows = await api(`/links/count?search=-${run}&groupBy=folderId`);
  const byFolder = Object.fromEntries(rows.map((r) => [String(r.folderId), r._count]));
  assert.deepEqual(byFolder, { fold_1: 1, fold_2: 1, null: 1 });
});
await check("GET /links/count grouped by tagId", async () => {
  const rows = await api(`/links/count?search=-${run}&groupBy=tagId`);
  assert.deepEqual(rows.map((r) => [r.tagId, r._count]), [[tag.id, 1]]);
});
await check("GET /links/count grouped by domain", async () => {
  const rows = await api(`/links/count?search=-${run}&groupBy=domain`);
  assert.deepEqual(rows.map((r) => [r.domain, r._count]), [[host, 3]]);
});
await check("links.updateMany", async () => {
  const res = await dub.links.updateMany({ linkIds: bulk.map((l) => l.id), data: { title: "bulk" } });
  assert.equal(res.length, 2);
  assert.ok(res.every((l) => l.title === "bulk"));
});
await check("links.upsert (create)", async () => {
  const l = await dub.links.upsert({ url: "https://example.com/up", key: `up-${run}` });
  assert.equal(l.key, `up-${run}`);
  assert.equal(l.url, "https://example.com/up");
});
await check("links.upsert (existing url)", async () => {
  const l = await dub.links.upsert({ url: "https://example.com/up", key: `up-${run}`, title: "again" });
  assert.equal(l.key, `up-${run}`);
  assert.equal(l.title, "again");
});
await check("links.deleteMany", async () => {
  const res = await dub.links.deleteMany({ linkIds: bulk.map((l) => l.id) });
  assert.equal(res.deletedCount, 2);
});

// ---- a click, then conversions
let clickId;
await check("a click on the short link (cq_id handed to the destination)", async () => {
  const resp = await fetch(`${base}/sdk-${run}`, { redirect: "manual", headers: { "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0" } });
  assert.equal(resp.status, 302);
  clickId = new URL(resp.headers.get("location")).searchParams.get("cq_id");
  assert.match(clickId ?? "", /^[0-9A-Za-z]{16}$/);
});
await check("track.lead", async () => {
  const res = await dub.track.lead({
    clickId,
    eventName: "Sign up",
    customerExternalId: `cus-${run}`,
    customerName: "Ada",
    customerEmail: "ada@example.com",
    mode: "wait",
  });
  assert.equal(res.click.id, clickId);
  assert.equal(res.link?.id, link.id);
  assert.equal(res.link?.tenantId, null);
  assert.equal(res.customer.externalId, `cus-${run}`);
  assert.equal(res.customer.name, "Ada");
  assert.equal(res.customer.email, "ada@example.com");
});
await check("track.lead mode=async", async () => {
  const res = await dub.track.lead({ clickId, eventName: "Newsletter", customerExternalId: `cus2-${run}`, mode: "async" });
  assert.equal(res.click.id, clickId);
  assert.equal(res.customer.externalId, `cus2-${run}`);
});
await check("track.lead mode=deferred, then wait", async () => {
  const d = await dub.track.lead({ clickId, eventName: "Trial", customerExternalId: `cus3-${run}`, mode: "deferred" });
  assert.equal(d.click.id, clickId);
  assert.equal(d.customer.externalId, `cus3-${run}`);
  assert.equal((await dub.events.list({ event: "clicks", linkId: link.id })).length, 1);
  // No lead yet: the composite count of the link still has the two above.
  const before = await api(`/analytics?event=composite&groupBy=count&linkId=${link.id}`);
  assert.equal(before.leads, 2);
  // The customer is known now: a later call without a click writes the lead.
  const w = await dub.track.lead({ clickId: "", eventName: "Trial", customerExternalId: `cus3-${run}`, mode: "wait" });
  assert.equal(w.click.id, clickId);
  assert.equal(w.link?.id, link.id);
  const after = await api(`/analytics?event=composite&groupBy=count&linkId=${link.id}`);
  assert.equal(after.leads, 3);
});
await check("track.sale", async () => {
  const res = await dub.track.sale({
    customerExternalId: `cus-${run}`,
    amount: 4200,
    currency: "usd",
    paymentProcessor: "stripe",
    invoiceId: `inv-${run}`,
    eventName: "Purchase",
    metadata: { plan: "pro" },
  });
  assert.equal(res.eventName, "Purchase");
  assert.equal(res.customer?.externalId, `cus-${run}`);
  assert.equal(res.sale?.amount, 4200);
  assert.equal(res.sale?.currency, "usd");
  assert.equal(res.sale?.paymentProcessor, "stripe");
  assert.equal(res.sale?.invoiceId, `inv-${run}`);
  assert.deepEqual(res.sale?.metadata, { plan: "pro" });
});
let customer;
await check("customers.list", async () => {
  const res = (await dub.customers.list({ externalId: `cus-${run}` })).result;
  assert.equal(res.length, 1);
  customer = res[0];
  assert.match(customer.id, /^cus_/);
  assert.equal(customer.email, "ada@example.com");
  iso(customer.createdAt);
});
await check("customers.get", async () => {
  const c = await dub.customers.get({ id: customer.id, includeExpandedFields: true });
  assert.equal(c.id, customer.id);
  assert.equal(c.link?.id, link.id);
});
await check("customers.get by ext_<externalId>", async () => {
  const c = await dub.customers.get({ id: `ext_cus-${run}` });
  assert.equal(c.id, customer.id);
});
await check("customers.update", async () => {
  const c = await dub.customers.update({ id: customer.id, requestBody: { name: "Ada L." } });
  assert.equal(c.name, "Ada L.");
});
await notOffered("customers.delete", () => dub.customers.delete(customer.id));

// ---- analytics and events (clicks are written in batches: poll)
async function eventually(fn, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
await check("analytics.retrieve count", async () => {
  await eventually(async () => {
    const res = await dub.analytics.retrieve({ event: "clicks", groupBy: "count", linkId: link.id });
    assert.equal(res.clicks, 1);
    assert.equal(res.leads, 3);
  });
});
await check("analytics.retrieve timeseries", async () => {
  const res = await dub.analytics.retrieve({ event: "clicks", groupBy: "timeseries", linkId: link.id, interval: "24h" });
  assert.ok(Array.isArray(res));
  assert.equal(res.reduce((n, r) => n + r.clicks, 0), 1);
  iso(res[0].start);
});
await check("analytics.retrieve top_links carries the link", async () => {
  const res = await dub.analytics.retrieve({ event: "clicks", groupBy: "top_links" });
  const row = res.find((r) => r.id === link.id);
  assert.ok(row, "link missing");
  assert.equal(row.shortLink, `${base}/sdk-${run}`);
  assert.equal(row.domain, host);
  assert.equal(row.key, `sdk-${run}`);
  assert.equal(row.url, "https://example.com/sdk2");
  assert.equal(row.clicks, 1);
});
await check("analytics.retrieve cities carries region", async () => {
  const res = await dub.analytics.retrieve({ event: "clicks", groupBy: "cities", linkId: link.id });
  assert.equal(res.length, 1);
  assert.equal(typeof res[0].region, "string");
  assert.equal(typeof res[0].city, "string");
});
await check("analytics.retrieve continents", async () => {
  const res = await dub.analytics.retrieve({ event: "clicks", groupBy: "continents", linkId: link.id });
  for (const r of res) assert.ok(["AF", "AN", "AS", "EU", "NA", "OC", "SA"].includes(r.continent), r.continent);
});
await check("analytics.retrieve devices", async () => {
  const res = await dub.analytics.retrieve({ event: "clicks", groupBy: "devices", linkId: link.id });
  assert.equal(res.reduce((n, r) => n + r.clicks, 0), 1);
});
await check("analytics.retrieve composite leads and sales", async () => {
  const res = await dub.analytics.retrieve({ event: "composite", groupBy: "count", linkId: link.id });
  assert.equal(res.clicks, 1);
  assert.equal(res.leads, 3);
  assert.equal(res.sales, 1);
  assert.equal(res.saleAmount, 4200);
});
await check("events.list clicks", async () => {
  const res = await dub.events.list({ event: "clicks", linkId: link.id });
  assert.equal(res.length, 1);
  assert.equal(res[0].event, "click");
  assert.equal(res[0].click.id, clickId);
  assert.equal(res[0].link.id, link.id);
  assert.equal(res[0].link.shortLink, `${base}/sdk-${run}`);
  assert.equal(typeof res[0].click.country, "string");
  iso(res[0].timestamp);
});
// ---- partners
let partner;
await check("partners.create", async () => {
  partner = await dub.partners.create({
    name: "Pat",
    email: `pat-${run}@example.com`,
    tenantId: `ten-${run}`,
    country: "FR",
  });
  assert.match(partner.id, /^pn_/);
  assert.equal(partner.name, "Pat");
  assert.equal(partner.email, `pat-${run}@example.com`);
  assert.equal(partner.tenantId, `ten-${run}`);
  assert.equal(partner.partnerId, partner.id);
  assert.equal(partner.status, "pending");
  assert.deepEqual(partner.links, [], "no program default destination: no link yet");
});
await check("partners.create again (update by tenantId)", async () => {
  const p = await dub.partners.create({ email: `pat-${run}@example.com`, tenantId: `ten-${run}`, username: "pat", name: "Pat M." });
  assert.equal(p.id, partner.id);
  assert.equal(p.name, "Pat M.");
  assert.equal(p.username, "pat");
});
await check("partners.list", async () => {
  const res = await dub.partners.list({ email: `pat-${run}@example.com` });
  assert.equal(res.length, 1);
  assert.equal(res[0].id, partner.id);
});
await check("partners.createLink", async () => {
  const l = await dub.partners.createLink({ partnerId: partner.id, url: "https://example.com/p1", key: `pat-${run}`, linkProps: { title: "Pat's link" } });
  assert.equal(l.key, `pat-${run}`);
  assert.equal(l.title, "Pat's link");
  assert.equal(l.partnerId, partner.id);
  const l2 = await dub.partners.createLink({ tenantId: `ten-${run}`, url: "https://example.com/p2", key: `pat2-${run}` });
  assert.equal(l2.partnerId, partner.id);
});
await check("partners.upsertLink", async () => {
  const l = await dub.partners.upsertLink({ partnerId: partner.id, url: "https://example.com/p2", linkProps: { title: "upserted" } });
  assert.equal(l.key, `pat2-${run}`);
  assert.equal(l.title, "upserted");
});
await check("partners.retrieveLinks", async () => {
  const res = await dub.partners.retrieveLinks({ partnerId: partner.id });
  assert.deepEqual(res.map((l) => l.key).sort(), [`pat-${run}`, `pat2-${run}`]);
});
await check("partners.retrieveLinks by tenantId", async () => {
  const res = await dub.partners.retrieveLinks({ tenantId: `ten-${run}` });
  assert.equal(res.length, 2);
});
await check("partners.analytics", async () => {
  const res = await dub.partners.analytics({ partnerId: partner.id, groupBy: "count" });
  assert.equal(res.clicks, 0);
  assert.equal(res.saleAmount, 0);
});

// ---- QR codes
await check("qrCodes.get", async () => {
  // The SDK reads the image/png body as text (as it does from Dub), so the
  // first byte comes back as U+FFFD; "PNG" follows it.
  const img = await dub.qrCodes.get({ url: "https://example.com/qr" });
  assert.equal(typeof img, "string");
  assert.equal(img.slice(1, 4), "PNG");
});

// ---- clean-up methods
await check("links.delete", async () => {
  const res = await dub.links.delete(link.id);
  assert.equal(res.id, link.id);
});
await check("tags.delete", async () => {
  const res = await dub.tags.delete(tag.id);
  assert.equal(res.id, tag.id);
});
await check("domains.delete", async () => {
  const res = await dub.domains.delete(domainSlug);
  assert.equal(res.slug, domainSlug);
});

// ---- features codeqr does not offer
await notOffered("folders.list", () => dub.folders.list({}));
await notOffered("folders.create", () => dub.folders.create({ name: "f" }));
await notOffered("folders.update", () => dub.folders.update("fold_1", { name: "g" }));
await notOffered("folders.delete", () => dub.folders.delete("fold_1"));
await notOffered("domains.register", () => dub.domains.register({ domain: "acme.link" }));
await notOffered("domains.checkStatus", () => dub.domains.checkStatus({ domains: "acme.link" }));
await notOffered("embedTokens.referrals", () => dub.embedTokens.referrals({ partnerId: "pn_1" }));
await notOffered("commissions.list", () => dub.commissions.list({}));
await notOffered("commissions.create", () => dub.commissions.create({ partnerId: "pn_1", linkId: "l", customerId: "c", amount: 1, type: "custom" }));
await notOffered("commissions.update", () => dub.commissions.update({ id: "cm_1", requestBody: { amount: 1 } }));
await notOffered("commissions.updateMany", () => dub.commissions.updateMany({ commissionIds: ["cm_1"], status: "refunded" }));
await notOffered("payouts.list", () => dub.payouts.list({}));
await notOffered("bounties.listSubmissions", () => dub.bounties.listSubmissions({ bountyId: "b1" }));
await notOffered("bounties.approveSubmission", () => dub.bounties.approveSubmission({ bountyId: "b1", submissionId: "s1" }));
await notOffered("bounties.rejectSubmission", () => dub.bounties.rejectSubmission({ bountyId: "b1", submissionId: "s1" }));
await notOffered("discountCodes.list", () => dub.discountCodes.list({ partnerId: "pn_1" }));
await notOffered("discountCodes.create", () => dub.discountCodes.create({ partnerId: "pn_1", linkId: "link_1" }));
await notOffered("discountCodes.delete", () => dub.discountCodes.delete("d1"));
await notOffered("partnerApplications.list", () => dub.partnerApplications.list({}));
await notOffered("partnerApplications.approve", () => dub.partnerApplications.approve({ partnerId: "pn_1" }));
await notOffered("partnerApplications.reject", () => dub.partnerApplications.reject({ partnerId: "pn_1" }));
await notOffered("partners.ban", () => dub.partners.ban({ partnerId: "pn_1", reason: "fraud" }));
await notOffered("partners.deactivate", () => dub.partners.deactivate({ partnerId: "pn_1" }));

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
