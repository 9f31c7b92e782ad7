// redthread investigator UI. Plain ES module, no build step.
// Every string from the server (labels, names, notes) is untrusted: the DOM is
// built with createElement and textContent only; nothing here assigns HTML.

const main = document.getElementById('main');
let csrf = '';
window.redthread = { renders: [], csp: [] };
document.addEventListener('securitypolicyviolation', (e) => window.redthread.csp.push(`${e.violatedDirective} ${e.blockedURI}`));

// h builds an element: h('a', {href: '#/x', class: 'c', onclick: fn}, 'text', child…).
function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'href') el.setAttribute('href', safeHref(v));
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of kids.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
function safeHref(v) {
  v = String(v);
  return v.startsWith('#/') || v.startsWith('/ui/') ? v : '#/';
}
const enc = encodeURIComponent;
function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }
function show(...kids) { clear(main).append(...kids.flat()); }
function errBox(e) { return h('p', { class: 'err' }, String(e && e.message || e)); }
function short(a) { return a && a.length > 16 ? a.slice(0, 8) + '…' + a.slice(-6) : a; }
function fmt(s) {
  s = String(s ?? '');
  if (!/^\d+$/.test(s)) return s;
  return s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
function big(s) { try { return BigInt(s || '0'); } catch { return 0n; } }
function num(s) { return Number(big(s)); }

async function api(path, opts = {}) {
  const init = { method: opts.method || 'GET', headers: {} };
  if (opts.body !== undefined) {
    init.body = JSON.stringify(opts.body);
    init.headers['Content-Type'] = 'application/json';
  }
  if (init.method !== 'GET') init.headers['X-Redthread-CSRF'] = csrf;
  let r = await fetch(path, init);
  if (r.status === 403 && init.method !== 'GET') { // a restarted server has a new token
    await loadSession();
    init.headers['X-Redthread-CSRF'] = csrf;
    r = await fetch(path, init);
  }
  const txt = await r.text();
  let js;
  try { js = JSON.parse(txt); } catch { js = { error: txt }; }
  if (!r.ok) throw new Error(js.error || (r.status + ' ' + r.statusText));
  return js;
}
async function loadSession() { csrf = (await api('/ui/session')).csrf; }

// ---------- routing ----------
const routes = [
  [/^#\/?$/, home],
  [/^#\/search\/(.+)$/, (q) => searchView(decodeURIComponent(q))],
  [/^#\/address\/([^/]+)\/([^/?]+)$/, (c, a) => addressView(c, a)],
  [/^#\/tx\/([^/]+)\/([^/?]+)$/, (c, t) => txView(c, t)],
  [/^#\/trace\?(.*)$/, (q) => traceRoute(new URLSearchParams(q))],
  [/^#\/incidents$/, incidentsView],
  [/^#\/entity\/([^/?]+)$/, (id) => entityView(decodeURIComponent(id))],
  [/^#\/incident\/([^/?]+)$/, (id) => incidentView(decodeURIComponent(id))],
  [/^#\/cases$/, casesView],
  [/^#\/case\/([0-9a-f]+)$/, (id) => caseView(id)],
  [/^#\/case\/([0-9a-f]+)\/trace\/(\d+)$/, (id, n) => caseTraceView(id, +n)],
];
async function route() {
  const hsh = location.hash || '#/';
  for (const [re, fn] of routes) {
    const m = hsh.match(re);
    if (m) {
      try { await fn(...m.slice(1)); } catch (e) { show(errBox(e)); }
      return;
    }
  }
  show(errBox('no page ' + hsh));
}

document.getElementById('search-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const q = document.getElementById('search').value.trim();
  if (q) location.hash = '#/search/' + enc(q);
});

// ---------- home ----------
async function home() {
  const chains = h('div', { class: 'card' }, h('h2', {}, 'Chains'), 'loading…');
  const inc = h('div', { class: 'card' }, h('h2', {}, 'Incidents'), 'loading…');
  const cases = h('div', { class: 'card' }, h('h2', {}, 'Cases'), 'loading…');
  show(h('h1', {}, 'Investigations'), h('div', { class: 'grid' }, chains, inc, cases));
  api('/api/v1/chains').then((js) => {
    clear(chains).append(h('h2', {}, 'Chains'), table(['chain', 'transfers', 'addresses', 'assets'],
      js.chains.map((c) => [c.chain, fmt(c.transfers), fmt(c.addresses), fmt(c.assets)])));
  }).catch((e) => clear(chains).append(h('h2', {}, 'Chains'), errBox(e)));
  api('/ui/incidents').then((js) => {
    clear(inc).append(h('h2', {}, 'Incidents'), incidentTable(js.incidents.slice(0, 10)),
      h('p', {}, h('a', { href: '#/incidents' }, `All ${js.incidents.length} incidents`)));
  }).catch((e) => clear(inc).append(errBox(e)));
  api('/ui/cases').then((js) => clear(cases).append(h('h2', {}, 'Cases'), caseList(js.cases), newCaseForm()))
    .catch((e) => clear(cases).append(h('h2', {}, 'Cases'), errBox(e)));
}

function table(head, rows, numCols = []) {
  return h('table', {}, h('thead', {}, h('tr', {}, head.map((x) => h('th', {}, x)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c, i) => h('td', { class: numCols.includes(i) ? 'num' : null }, c))))));
}

// ---------- search ----------
async function searchView(q) {
  document.getElementById('search').value = q;
  show(h('p', {}, 'Searching…'));
  const js = await api('/ui/search?q=' + enc(q));
  const hits = js.hits;
  const direct = hits.filter((x) => x.kind !== 'entity');
  if (direct.length === 1 && hits.length === 1) { location.replace(hitHref(direct[0])); return; }
  show(h('h1', {}, 'Search: ', q),
    hits.length === 0 ? h('p', {}, 'Nothing found. Try an address (0x…), a transaction hash, a name or an incident.') :
      h('ul', { class: 'hits card' }, hits.map((x) => h('li', {},
        h('span', { class: 'pill' }, x.kind), ' ',
        h('a', { href: hitHref(x) }, x.title), ' ',
        h('span', { class: 'muted' }, x.detail || ''), x.score ? h('span', { class: 'muted' }, ` · score ${x.score.toFixed(2)}`) : ''))));
}
function hitHref(x) {
  switch (x.kind) {
    case 'address': return `#/address/${enc(x.chain)}/${enc(x.address)}`;
    case 'tx': return `#/tx/${enc(x.chain)}/${enc(x.tx)}`;
    case 'incident': return `#/incident/${enc(x.id)}`;
    case 'entity': return `#/entity/${enc(x.id)}`;
  }
  return '#/';
}

// ---------- address ----------
async function addressView(chain, addr) {
  show(h('p', {}, 'Loading address…'));
  const a = await api(`/api/v1/address/${enc(chain)}/${enc(addr)}`);
  const traceHref = (dir) => `#/trace?chain=${enc(a.chain)}&from=${enc(a.address)}&direction=${dir}`;
  const head = h('div', { class: 'card' },
    h('h1', { id: 'addr-title' }, a.address),
    h('p', {}, `${a.chain} · `, a.known ? `first seen ${a.first_seen?.time || '?'} (block ${a.first_seen?.block}), last seen ${a.last_seen?.time || '?'}` : 'no transfers in the ledger'),
    h('div', { class: 'row' },
      h('a', { class: 'button', id: 'trace-forward', href: traceHref('forward') }, 'Trace forward'),
      h('a', { class: 'button', href: traceHref('backward') }, 'Trace backward'),
      addToCaseControl((id) => api(`/ui/cases/${id}/addresses`, { method: 'POST', body: { chain: a.chain, address: a.address } }))));
  const attrs = h('div', { class: 'card', id: 'attributions' }, h('h2', {}, 'Attributions'),
    a.attributions.length === 0 ? h('p', { class: 'muted' }, 'No attribution for this address.') :
      table(['label', 'category', 'entity', 'incident', 'confidence', 'source', 'valid'],
        a.attributions.map((x) => [x.label || '', h('span', { class: 'pill' }, x.category), x.entity || '', x.incident || '',
          String(x.confidence), x.inferred ? inferredCell(x) : sourceCell(x.source, x.url), [x.valid_from, x.valid_to].filter(Boolean).join(' – ')])));
  const assets = h('div', { class: 'card' }, h('h2', {}, 'Received and sent per asset'),
    table(['asset', 'in', 'received', 'out', 'sent'],
      a.assets.map((x) => [h('span', { class: 'mono' }, x.asset), fmt(x.count_in), fmt(x.received), fmt(x.count_out), fmt(x.sent)]), [1, 2, 3, 4]),
    h('p', { class: 'muted' }, 'Amounts in the asset\'s smallest unit, exact.'));
  const top = h('div', { class: 'card', id: 'counterparties' });
  const drawTop = (x, n) => {
    const more = h('button', {}, 'Show the top 100');
    more.addEventListener('click', async () => {
      more.disabled = true;
      try { drawTop(await api(`/api/v1/address/${enc(a.chain)}/${enc(a.address)}?top=100`), 100); } catch (e) { top.append(errBox(e)); }
    });
    clear(top).append(h('h2', {}, `Top ${n} counterparties by transfers`),
      x.counterparties_sampled ? h('p', { class: 'muted' }, `Over the most recent ${fmt(x.sample_limit)} transfers (busy address).`) : '',
      table(['counterparty', 'in', 'out'], x.counterparties.map((c) => [addrLink(x.chain, c.address), fmt(c.transfers_in), fmt(c.transfers_out)]), [1, 2]),
      n < 100 && x.counterparties.length >= n ? h('div', { class: 'row' }, more) : '');
  };
  drawTop(a, 10);
  const expo = h('div', { class: 'card', id: 'exposure' }, h('h2', {}, 'Exposure by category'), 'loading…');
  const tr = h('div', { class: 'card' }, h('h2', {}, 'Transfers (newest first)'));
  show(head, h('div', { class: 'grid' }, attrs, assets), h('div', { class: 'grid' }, expo, top), tr);
  transfersPager(tr, a.chain, a.address);
  api(`/api/v1/exposure/${enc(a.chain)}/${enc(a.address)}`).then((e) => exposureCard(expo, e))
    .catch((e) => clear(expo).append(h('h2', {}, 'Exposure by category'), errBox(e)));
}
function sourceCell(name, url) {
  return h('span', {}, name || '', url ? h('div', { class: 'mono muted' }, url) : '');
}

// inferredCell shows an inferred attribution's source with its evidence:
// redthread's own inference, not a listed source.
function inferredCell(x) {
  const ev = x.evidence;
  const parts = [h('span', { class: 'pill' }, 'inferred'), ' ', x.source];
  if (ev) {
    parts.push(h('div', { class: 'muted' }, `${ev.sweeps} sweep(s) into `, h('span', { class: 'mono' }, ev.target || '–'),
      ev.txs && ev.txs.length ? `; first tx ${ev.txs[0].slice(0, 12)}…` : ''));
  }
  return h('span', {}, ...parts);
}
function addrLink(chain, a) { return h('a', { class: 'mono', href: `#/address/${enc(chain)}/${enc(a)}` }, a); }

function exposureCard(card, e) {
  clear(card).append(h('h2', {}, 'Exposure by category'),
    h('p', { class: 'muted' }, `within ${e.hops} hops, as of ${e.as_of}`));
  for (const as of e.assets || []) {
    card.append(h('h3', {}, 'asset ', h('span', { class: 'mono' }, as.asset)));
    for (const side of ['source', 'destination']) {
      const s = as[side];
      if (!s || !s.categories || s.categories.length === 0) { card.append(h('p', { class: 'muted' }, `${side}: nothing attributed`)); continue; }
      card.append(h('p', {}, h('b', {}, side), ` of ${fmt(s.total)}`),
        table(['category', 'direct', 'indirect', ''], s.categories.map((c) => [
          h('span', { class: 'pill' + (c.risky ? ' risky' : '') }, c.category),
          (100 * c.direct_share).toFixed(2) + ' %', (100 * c.indirect_share).toFixed(2) + ' %',
          h('span', { class: 'bar', style: `width:${Math.round(120 * Math.min(1, c.direct_share + c.indirect_share))}px` })]), [1, 2]));
    }
  }
}

function transfersPager(card, chain, addr) {
  const body = h('div', {});
  const more = h('button', {}, 'More');
  let cursor = '';
  const rows = h('tbody', {});
  body.append(h('table', {}, h('thead', {}, h('tr', {}, ['time', 'dir', 'counterparty', 'asset', 'amount', 'tx'].map((x) => h('th', {}, x)))), rows), h('div', { class: 'row' }, more));
  card.append(body);
  const load = async () => {
    more.disabled = true;
    try {
      const js = await api(`/ui/transfers/${enc(chain)}/${enc(addr)}?limit=50${cursor ? '&cursor=' + enc(cursor) : ''}`);
      for (const t of js.transfers) {
        rows.append(h('tr', {}, h('td', {}, t.time), h('td', {}, t.dir), h('td', {}, addrLink(chain, t.counterparty)),
          h('td', { class: 'mono' }, short(t.asset)), h('td', { class: 'num' }, fmt(t.amount)),
          h('td', {}, t.tx ? h('a', { class: 'mono', href: `#/tx/${enc(chain)}/${enc(t.tx)}` }, short(t.tx)) : '')));
      }
      cursor = js.next;
      more.disabled = !cursor;
      more.textContent = cursor ? 'More' : 'No more transfers';
    } catch (e) { body.append(errBox(e)); }
  };
  more.addEventListener('click', load);
  load();
}

// ---------- transaction ----------
async function txView(chain, tx) {
  const t = await api(`/ui/tx/${enc(chain)}/${enc(tx)}`);
  const senders = [...new Set(t.transfers.map((x) => x.from))];
  show(h('div', { class: 'card' }, h('h1', {}, 'Transaction ', h('span', { class: 'mono' }, t.tx)),
    h('p', {}, `${t.chain} · block ${t.block} · ${t.time}`),
    h('div', { class: 'row' }, h('a', { class: 'button', href: `#/trace?chain=${enc(t.chain)}&from=${enc(senders.join(','))}&tx=${enc(t.tx)}&direction=forward` }, 'Trace this transaction forward'))),
  h('div', { class: 'card' }, table(['from', 'to', 'asset', 'amount'], t.transfers.map((x) => [addrLink(t.chain, x.from), addrLink(t.chain, x.to), h('span', { class: 'mono' }, short(x.asset)), fmt(x.amount)]), [3])));
}

// ---------- cases (shared controls) ----------
function addToCaseControl(add) {
  const sel = h('select', { 'aria-label': 'case' }, h('option', { value: '' }, 'Add to case…'));
  const msg = h('span', { class: 'muted' });
  api('/ui/cases').then((js) => { for (const c of js.cases) sel.append(h('option', { value: c.id }, c.title)); }).catch(() => {});
  sel.addEventListener('change', async () => {
    if (!sel.value) return;
    try { await add(sel.value); msg.textContent = ' added.'; } catch (e) { msg.textContent = ' ' + e.message; }
    sel.value = '';
  });
  return h('span', { class: 'add-to-case' }, sel, msg);
}
function caseList(cases) {
  if (!cases.length) return h('p', { class: 'muted' }, 'No cases yet.');
  return h('ul', {}, cases.map((c) => h('li', {}, h('a', { href: `#/case/${c.id}` }, c.title), ' ',
    c.tags.map((t) => h('span', { class: 'pill' }, t)), h('span', { class: 'muted' }, ` updated ${c.updated}`))));
}
function newCaseForm() {
  const title = h('input', { id: 'new-case-title', placeholder: 'Case title', required: true });
  const tags = h('input', { id: 'new-case-tags', placeholder: 'tags, comma-separated' });
  const f = h('form', { class: 'row' }, title, tags, h('button', { type: 'submit', id: 'new-case' }, 'Create case'));
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const c = await api('/ui/cases', { method: 'POST', body: { title: title.value, tags: splitTags(tags.value) } });
      location.hash = `#/case/${c.id}`;
    } catch (e) { f.append(errBox(e)); }
  });
  return f;
}
function splitTags(s) { return s.split(',').map((x) => x.trim()).filter(Boolean); }

async function casesView() {
  const js = await api('/ui/cases');
  show(h('h1', {}, 'Cases'), h('div', { class: 'card' }, caseList(js.cases), newCaseForm()));
}

async function caseView(id) {
  const c = await api(`/ui/cases/${id}`);
  const tagsIn = h('input', { id: 'case-tags', value: c.tags.join(', ') });
  const tagForm = h('form', { class: 'row' }, h('label', {}, 'Tags '), tagsIn, h('button', { type: 'submit' }, 'Save tags'));
  tagForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try { await api(`/ui/cases/${id}`, { method: 'PATCH', body: { tags: splitTags(tagsIn.value) } }); route(); } catch (e) { tagForm.append(errBox(e)); }
  });
  const noteIn = h('textarea', { id: 'note-text', placeholder: 'Write a note' });
  const noteForm = h('form', {}, noteIn, h('div', { class: 'row' }, h('button', { type: 'submit', id: 'add-note', class: 'primary' }, 'Add note')));
  noteForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try { await api(`/ui/cases/${id}/notes`, { method: 'POST', body: { text: noteIn.value } }); route(); } catch (e) { noteForm.append(errBox(e)); }
  });
  const ex = (f, label) => h('a', { class: 'button', id: 'export-' + f, href: `/ui/cases/${id}/export/${f}`, target: '_blank' }, label);
  show(h('div', { class: 'card' }, h('h1', { id: 'case-title' }, c.title),
    h('p', { class: 'muted' }, `case ${c.id} · created ${c.created} · updated ${c.updated}`),
    h('div', { class: 'row' }, c.tags.map((t) => h('span', { class: 'pill' }, t))), tagForm,
    h('div', { class: 'row' }, 'Export: ', ex('html', 'Report (HTML, print to PDF)'), ex('json', 'JSON'), ex('csv', 'CSV transfers'), ex('tagpack', 'TagPack YAML'))),
  h('div', { class: 'grid' },
    h('div', { class: 'card' }, h('h2', {}, 'Notes'),
      h('div', { id: 'notes' }, c.notes.length ? c.notes.map((n) => h('div', { class: 'note' }, h('small', { class: 'muted' }, n.time), h('br', {}), n.text)) : h('p', { class: 'muted' }, 'No notes yet.')),
      noteForm),
    h('div', { class: 'card' }, h('h2', {}, 'Addresses'),
      c.addresses.length ? table(['chain', 'address', 'added'], c.addresses.map((a) => [a.chain, addrLink(a.chain, a.address), a.added])) : h('p', { class: 'muted' }, 'Add addresses from their pages.'),
      h('h2', {}, 'Traces'),
      c.traces.length ? table(['#', 'trace', 'addresses', 'saved'], c.traces.map((t) => [String(t.id),
        h('a', { href: `#/case/${id}/trace/${t.id}` }, t.title || `${t.request.direction} from ${short(t.request.from[0])}`), fmt(t.nodes), t.added]))
        : h('p', { class: 'muted' }, 'Save traces from the trace view.'))));
}

async function caseTraceView(id, n) {
  const c = await api(`/ui/cases/${id}?results=1`);
  const t = c.traces.find((x) => x.id === n);
  if (!t) throw new Error('no trace ' + n + ' in this case');
  const box = h('div', {});
  show(h('p', {}, h('a', { href: `#/case/${id}` }, '← ', c.title)), box);
  renderTrace(box, t.result, t.request, null);
}

// ---------- listed entities ----------
async function entityView(id) {
  const e = await api(`/ui/entities/${enc(id)}`);
  show(h('div', { class: 'card' }, h('h1', { id: 'entity-title' }, e.names[0] || e.id),
    h('p', {}, `${e.type || 'party'} · ${e.id}`, e.programs.length ? ' · programs ' + e.programs.join(', ') : '',
      e.listed_on ? ' · listed ' + e.listed_on : '', e.delisted_on ? ' · delisted ' + e.delisted_on : ''),
    h('p', { class: 'muted' }, 'Source: ', sourceCell(e.source, e.source_url)),
    e.names.length > 1 ? h('p', {}, 'Also known as: ', e.names.slice(1).join('; ')) : '',
    e.nationalities.length ? h('p', {}, 'Nationality (list data): ', e.nationalities.join(', ')) : '',
    e.identifiers.length ? table(['type', 'number', 'country'], e.identifiers.map((i) => [i.Type, i.Number, i.Country])) : '',
    e.remarks ? h('p', { class: 'note' }, e.remarks) : ''),
  h('div', { class: 'card' }, h('h2', {}, 'Listed wallets'),
    e.wallets.length ? table(['chain', 'address', ''], e.wallets.map((w) => [w.chain + (w.ticker ? ` (${w.ticker})` : ''),
      w.indexed ? addrLink(w.chain, w.address) : h('span', { class: 'mono' }, w.address), w.indexed ? 'in the ledger' : 'not in the indexed ledger']))
      : h('p', { class: 'muted' }, 'The list gives no wallet for this party.')));
}

// ---------- incidents ----------
function incidentTable(list) {
  return table(['incident', 'when', 'stolen (USD)', 'addresses'], list.map((i) => [
    h('a', { href: `#/incident/${enc(i.id)}` }, i.name), i.when || '', i.stolen_known ? fmt(i.stolen_usd) : '?',
    `${i.addresses}` + (i.indexed ? ` (${i.indexed} traceable)` : '')]), [2]);
}
async function incidentsView() {
  const js = await api('/ui/incidents');
  show(h('h1', {}, 'Incidents'), h('p', { class: 'muted' }, 'Incidents of the loaded incident packs and labels; those with addresses on the indexed chains come first.'),
    h('div', { class: 'card' }, incidentTable(js.incidents)));
}
async function incidentView(id) {
  const i = await api(`/ui/incidents/${enc(id)}`);
  const box = h('div', {});
  const seeds = i.seeds || [];
  const chain = seeds.length ? seeds[0].chain : '';
  const from = seeds.filter((s) => s.chain === chain).map((s) => s.address);
  show(h('div', { class: 'card' }, h('h1', { id: 'incident-title' }, i.name),
    h('p', {}, [i.when ? 'When: ' + i.when : 'Date unknown', i.stolen_known ? ` · stolen: US$ ${fmt(i.stolen_usd)}` : ' · stolen amount unknown',
      i.attribution ? ' · attributed: ' + i.attribution : '', i.marker ? ' · ' + i.marker : ''].join('')),
    h('p', { class: 'muted' }, 'Source: ', i.source || '', i.source_url ? ' ' + i.source_url : ''),
    h('p', {}, `${i.addresses} attributed addresses on ${i.chains.join(', ')}; ${i.indexed} on indexed chains.`),
    from.length ? h('p', {}, `Theft addresses traced (${chain}): `, from.map((a) => [addrLink(chain, a), ' '])) :
      h('p', { class: 'muted' }, 'None of its addresses is on a chain this server indexed, so it cannot be traced here.')),
  box,
  h('div', { class: 'card' }, h('h2', {}, 'Attributed addresses'),
    table(['chain', 'address', 'label', 'role', 'source'], (i.members || []).slice(0, 500).map((m) => [m.chain, m.indexed ? addrLink(m.chain, m.address) : h('span', { class: 'mono' }, m.address), m.label || '', m.role || '', m.source || '']))));
  if (from.length) {
    const req = { chain, from, policy: 'haircut', direction: 'forward' };
    box.append(h('p', {}, 'Tracing…'));
    try {
      const res = await api('/api/v1/trace', { method: 'POST', body: req });
      clear(box);
      renderTrace(box, res, req, `Incident ${i.name}`);
    } catch (e) { clear(box).append(errBox(e)); }
  }
}

// ---------- trace ----------
async function traceRoute(p) {
  const req = {
    chain: p.get('chain'), from: (p.get('from') || '').split(',').filter(Boolean),
    policy: p.get('policy') || 'haircut', direction: p.get('direction') || 'forward',
  };
  for (const k of ['tx', 'asset', 'since']) if (p.get(k)) req[k] = p.get(k);
  if (p.get('max_nodes')) req.max_nodes = +p.get('max_nodes');
  if (p.get('max_hops')) req.max_hops = +p.get('max_hops');
  if (p.has('stop')) req.stop_categories = p.get('stop') === 'none' ? [] : p.get('stop').split(',');
  const box = h('div', {});
  show(traceForm(req), box);
  box.append(h('p', {}, 'Tracing…'));
  const res = await api('/api/v1/trace', { method: 'POST', body: req });
  clear(box);
  renderTrace(box, res, req, null);
}

function traceForm(req) {
  const f = h('form', { class: 'card row', id: 'trace-form' });
  const pol = h('select', { name: 'policy' }, ['haircut', 'poison', 'fifo'].map((x) => h('option', { value: x, selected: x === req.policy }, x)));
  const dir = h('select', { name: 'direction' }, ['forward', 'backward'].map((x) => h('option', { value: x, selected: x === req.direction }, x)));
  const asset = h('input', { name: 'asset', placeholder: 'asset (auto-trace one asset)', value: req.asset || '' });
  const stop = h('input', { name: 'stop', placeholder: 'stop categories (default; "none")', value: req.stop_categories ? (req.stop_categories.join(',') || 'none') : '' });
  const maxn = h('input', { name: 'max_nodes', type: 'number', min: 0, placeholder: 'max nodes', value: req.max_nodes || '' });
  f.append(h('b', {}, `Trace on ${req.chain} from ${req.from.map(short).join(', ')}`), pol, dir, asset, stop, maxn, h('button', { type: 'submit' }, 'Run'));
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams({ chain: req.chain, from: req.from.join(','), policy: pol.value, direction: dir.value });
    if (req.tx) q.set('tx', req.tx);
    if (asset.value) q.set('asset', asset.value);
    if (stop.value) q.set('stop', stop.value);
    if (maxn.value) q.set('max_nodes', maxn.value);
    location.hash = '#/trace?' + q.toString();
  });
  return f;
}

const catColors = {
  hack: '#c0392b', dprk: '#8e1b10', sanctioned: '#6c1a8c', scam: '#d35400', mixer: '#8e44ad', exchange: '#2471a3',
  bridge: '#17a589', dex: '#1abc9c', otc: '#b7950b', gambling: '#a04000', defi: '#5dade2', victim: '#7f8c8d',
  miner: '#566573', token: '#85929e', other: '#95a5a6', hub: '#34495e', 'max-hops': '#bdc3c7', '': '#aab7b8',
};
function nodeCategory(n) {
  if (n.attributions && n.attributions.length) return n.attributions[0].category;
  if (n.stop && catColors[n.stop]) return n.stop;
  return '';
}
function nodeLabel(n) {
  const a = n.attributions && n.attributions.find((x) => x.label);
  return a ? a.label : short(n.address);
}

// renderTrace draws a trace result: summary, filters, graph, Sankey, timeline, endpoints.
function renderTrace(box, res, req, title) {
  const t0 = performance.now();
  const assets = [...new Set(res.edges.map((e) => e.asset))];
  const totals = res.totals || [];
  const seeded = totals.filter((x) => x.seeded !== '0').map((x) => x.asset);
  const mainAsset = req.asset || (seeded.includes('native') ? 'native' : seeded[0]) || assets[0] || 'native';
  const st = { asset: mainAsset, min: 0n, from: '', to: '' };
  const assetSel = h('select', { id: 'f-asset' }, h('option', { value: '' }, 'all assets'), assets.map((a) => h('option', { value: a, selected: a === mainAsset }, short(a))));
  const minIn = h('input', { id: 'f-min', placeholder: 'min amount (smallest unit)', size: 22 });
  const fromIn = h('input', { id: 'f-from', type: 'date' });
  const toIn = h('input', { id: 'f-to', type: 'date' });
  const graphEl = h('div', { id: 'graph' });
  const side = h('div', { class: 'card side', id: 'node-panel' }, h('p', { class: 'muted' }, 'Click a node for details; use its buttons to collapse or expand what follows it, or to continue the trace from it.'));
  const sankeyEl = h('div', { id: 'sankey' });
  const timelineEl = h('div', { id: 'timeline' });
  const saveMsg = h('span', { class: 'muted' });
  const saveSel = addToCaseControl(async (id) => {
    await api(`/ui/cases/${id}/traces`, { method: 'POST', body: { title: title || '', request: req } });
  });
  box.append(
    h('div', { class: 'card' }, h('h2', {}, title || 'Trace'),
      h('p', { id: 'trace-summary' }, `${res.request.direction} ${res.request.policy} trace on ${res.request.chain}: ${fmt(res.nodes.length)} addresses, ${fmt(res.stats.tainted_transfers)} tainted transfers, ${fmt(res.endpoints.length)} endpoints`,
        res.truncated ? h('b', {}, ` · truncated (${res.truncated_reason || 'limit'})`) : ''),
      h('p', { id: 'trace-when' }, traceWhen(res)),
      h('div', { class: 'row' }, 'Save this trace to a case: ', saveSel, saveMsg),
      table(['chain', 'asset', 'seeded', 'to endpoints', 'held', 'pending'], totals.map((x) => [x.chain, h('span', { class: 'mono' }, short(x.asset)), fmt(x.seeded), fmt(x.endpoints), fmt(x.held), fmt(x.pending)]), [2, 3, 4, 5])),
    h('div', { class: 'card row' }, 'Filters: ', h('label', {}, 'asset ', assetSel), h('label', {}, 'min ', minIn), h('label', {}, 'from ', fromIn), h('label', {}, 'to ', toIn),
      h('span', { class: 'legend' }, Object.entries(catColors).filter(([k]) => k && k !== 'max-hops').slice(0, 12).map(([k, c]) => h('span', {}, h('i', { style: `background:${c}` }), k)))),
    h('div', { style: 'display:grid;grid-template-columns:1fr 300px;gap:1em' }, graphEl, side),
    h('div', { class: 'grid' }, h('div', { class: 'card' }, h('h2', {}, 'Flow: source → endpoints'), sankeyEl), h('div', { class: 'card' }, h('h2', {}, 'Timeline: tainted value arriving at endpoints per day'), timelineEl)),
    h('div', { class: 'card' }, h('h2', {}, 'Endpoints'), endpointTable(res)));

  const cy = drawGraph(graphEl, res, side, req, st);
  window.redthread.cy = cy;
  const charts = [];
  const redraw = () => {
    applyFilters(cy, res, st);
    charts.forEach((c) => c.dispose());
    charts.length = 0;
    if (window.echarts) {
      charts.push(drawSankey(sankeyEl, res, st));
      charts.push(drawTimeline(timelineEl, res, st));
    }
  };
  assetSel.addEventListener('change', () => { st.asset = assetSel.value; redraw(); });
  minIn.addEventListener('change', () => { st.min = /^\d+$/.test(minIn.value.trim()) ? BigInt(minIn.value.trim()) : 0n; redraw(); });
  fromIn.addEventListener('change', () => { st.from = fromIn.value; redraw(); });
  toIn.addEventListener('change', () => { st.to = toIn.value; redraw(); });
  redraw();
  const ms = performance.now() - t0;
  window.redthread.renders.push({ nodes: res.nodes.length, edges: res.edges.length, ms });
  graphEl.dataset.nodes = String(cy ? cy.nodes().length : 0);
  graphEl.dataset.renderMs = ms.toFixed(1);
}

// traceWhen says when the funds moved: first and last tainted transfer, and
// when they reached endpoints.
function traceWhen(res) {
  let first = '', last = '';
  for (const e of res.edges) {
    if (!first || e.first < first) first = e.first;
    if (!last || e.last > last) last = e.last;
  }
  let ef = '', el = '';
  for (const e of res.endpoints) {
    if (!ef || e.first < ef) ef = e.first;
    if (!el || e.last > el) el = e.last;
  }
  if (!first) return 'No tainted transfer.';
  return `Funds moved from ${first} to ${last}` + (ef ? `; reached endpoints from ${ef} to ${el}.` : '; no endpoint reached.');
}

function endpointTable(res) {
  return table(['address', 'service', 'category', 'asset', 'amount', 'transfers', 'first', 'last'],
    res.endpoints.slice(0, 300).map((e) => [addrLink(e.chain, e.address), e.service || '', h('span', { class: 'pill' }, e.category || e.reason || ''),
      h('span', { class: 'mono' }, short(e.asset)), fmt(e.amount), fmt(e.transfers), e.first, e.last]), [4, 5]);
}

function drawGraph(el, res, side, req, st) {
  if (!window.cytoscape) { el.append(errBox('graph library failed to load')); return null; }
  const byHop = new Map();
  const elements = [];
  // Hop layout, linear time: one band of columns per hop, at most 30 rows each.
  const ROWS = 30, DX = 34, DY = 30;
  const count = new Map();
  for (const n of res.nodes) count.set(n.hop || 0, (count.get(n.hop || 0) || 0) + 1);
  const bandX = new Map();
  let x0 = 0;
  for (const hop of [...count.keys()].sort((a, b) => a - b)) {
    bandX.set(hop, x0);
    x0 += DX * Math.ceil(count.get(hop) / ROWS) + 140;
  }
  const addNode = (n) => {
    const hop = n.hop || 0;
    const k = byHop.get(hop) || 0;
    byHop.set(hop, k + 1);
    const cat = nodeCategory(n);
    const bx = bandX.has(hop) ? bandX.get(hop) : x0 + 140 * hop;
    elements.push({
      group: 'nodes', data: { id: n.chain + ':' + n.address, label: nodeLabel(n), color: catColors[cat] || catColors[''], role: n.role, cat, n },
      position: { x: bx + DX * Math.floor(k / ROWS), y: DY * (k % ROWS) + (Math.floor(k / ROWS) % 2) * DY / 2 },
    });
  };
  res.nodes.forEach(addNode);
  // Edges may reach addresses that are not trace nodes (the pool or bridge
  // side of a swap or bridge crossing): draw them as conversion nodes.
  const known = new Set(res.nodes.map((n) => n.chain + ':' + n.address));
  const hopOf = new Map(res.nodes.map((n) => [n.chain + ':' + n.address, n.hop || 0]));
  for (const e of res.edges) {
    for (const [a, other] of [[e.from, e.to], [e.to, e.from]]) {
      const id = e.chain + ':' + a;
      if (known.has(id)) continue;
      known.add(id);
      addNode({ chain: e.chain, address: a, role: 'conversion', hop: (hopOf.get(e.chain + ':' + other) || 0) + (a === e.to ? 1 : 0), stop: 'dex' });
    }
  }
  let max = 1;
  for (const e of res.edges) max = Math.max(max, num(e.tainted));
  const lmax = Math.log10(max + 1);
  res.edges.forEach((e, i) => elements.push({
    group: 'edges', data: { id: 'e' + i, source: e.chain + ':' + e.from, target: e.chain + ':' + e.to, w: 1 + 9 * Math.log10(num(e.tainted) + 1) / lmax, e },
  }));
  const cy = window.cytoscape({
    container: el, elements, layout: { name: 'preset', fit: true, padding: 20 },
    textureOnViewport: true, hideEdgesOnViewport: res.nodes.length > 800, pixelRatio: 1,
    style: [
      { selector: 'node', style: { 'background-color': 'data(color)', width: 14, height: 14, label: res.nodes.length <= 300 ? 'data(label)' : '', 'font-size': 9, 'text-valign': 'bottom', 'min-zoomed-font-size': 6 } },
      { selector: 'node[role = "seed"]', style: { 'border-width': 4, 'border-color': '#000', width: 22, height: 22, label: 'data(label)' } },
      { selector: 'node[role = "endpoint"]', style: { shape: 'diamond', width: 24, height: 24, 'border-width': 2, 'border-color': '#f1c40f', label: 'data(label)' } },
      { selector: 'node[role = "conversion"]', style: { shape: 'round-rectangle', 'border-width': 1, 'border-color': '#1abc9c' } },
      { selector: 'node:selected', style: { 'border-width': 4, 'border-color': '#e67e22' } },
      { selector: 'edge', style: { width: 'data(w)', 'line-color': '#c7a29e', 'target-arrow-shape': 'triangle', 'target-arrow-color': '#c7a29e', 'curve-style': 'haystack', opacity: 0.7 } },
      { selector: '.collapsed', style: { 'border-width': 3, 'border-style': 'double', 'border-color': '#555' } },
    ],
  });
  cy.on('tap', 'node', (ev) => nodePanel(side, cy, ev.target, req, res, st));
  return cy;
}

function nodePanel(side, cy, node, req, res, st) {
  const n = node.data('n');
  const collapsed = node.hasClass('collapsed');
  const toggle = h('button', { id: 'collapse' }, collapsed ? 'Expand downstream' : 'Collapse downstream');
  toggle.addEventListener('click', () => {
    const down = node.successors();
    if (node.hasClass('collapsed')) { node.removeClass('collapsed'); down.style('display', 'element'); } else { node.addClass('collapsed'); down.not(node).style('display', 'none'); }
    nodePanel(side, cy, node, req, res, st);
  });
  const cont = h('button', { id: 'continue' }, st.asset ? `Continue trace of ${short(st.asset)} from here` : 'Continue trace from here');
  cont.addEventListener('click', async () => {
    cont.disabled = true;
    try {
      const more = await api('/api/v1/trace', { method: 'POST', body: { ...req, from: [n.address], tx: undefined, chain: n.chain, asset: st.asset || req.asset } });
      mergeTrace(cy, more, res);
      cont.textContent = `added ${more.nodes.length} addresses`;
    } catch (e) { side.append(errBox(e)); }
  });
  clear(side).append(h('div', {}, h('h3', { class: 'mono' }, n.address), h('p', {}, `${n.chain} · ${n.role} · hop ${n.hop}`, n.stop ? ` · stop: ${n.stop}` : ''),
    (n.attributions || []).map((a) => h('p', {}, h('span', { class: 'pill' }, a.category), ' ', a.label || '', a.source ? h('span', { class: 'muted' }, ` (${a.source}, ${a.confidence})`) : '')),
    (n.received || []).map((x) => h('div', {}, 'received ', fmt(x.amount), ' ', h('span', { class: 'mono' }, short(x.asset)))),
    (n.sent || []).map((x) => h('div', {}, 'sent ', fmt(x.amount), ' ', h('span', { class: 'mono' }, short(x.asset)))),
    n.via ? h('p', {}, 'first taint via ', h('a', { class: 'mono', href: `#/tx/${enc(n.via.chain)}/${enc(n.via.tx)}` }, short(n.via.tx)), ' at ', n.via.time) : '',
    h('div', { class: 'row' }, h('a', { class: 'button', href: `#/address/${enc(n.chain)}/${enc(n.address)}` }, 'Address page'), toggle, cont)));
}

// mergeTrace adds a continuation trace's nodes and edges to the graph.
function mergeTrace(cy, more, res) {
  const have = new Set(cy.nodes().map((x) => x.id()));
  const add = [];
  let base = cy.nodes().length;
  for (const n of more.nodes) {
    const id = n.chain + ':' + n.address;
    if (have.has(id)) continue;
    have.add(id);
    const cat = nodeCategory(n);
    add.push({ group: 'nodes', data: { id, label: nodeLabel(n), color: catColors[cat] || catColors[''], role: n.role === 'seed' ? 'intermediate' : n.role, cat, n }, position: { x: 220 * (20 + (n.hop || 0)), y: 34 * (base++ % 60) } });
    res.nodes.push(n);
  }
  const eid = cy.edges().length;
  more.edges.forEach((e, i) => { add.push({ group: 'edges', data: { id: 'm' + eid + '_' + i, source: e.chain + ':' + e.from, target: e.chain + ':' + e.to, w: 2, e } }); res.edges.push(e); });
  cy.add(add);
}

function edgeVisible(e, st) {
  if (st.asset && e.asset !== st.asset) return false;
  if (st.min > 0n && big(e.tainted) < st.min) return false;
  if (st.from && e.last.slice(0, 10) < st.from) return false;
  if (st.to && e.first.slice(0, 10) > st.to) return false;
  return true;
}
function applyFilters(cy, res, st) {
  if (!cy) return;
  cy.batch(() => {
    const live = new Set();
    cy.edges().forEach((ed) => {
      const ok = edgeVisible(ed.data('e'), st);
      ed.style('display', ok ? 'element' : 'none');
      if (ok) { live.add(ed.data('source')); live.add(ed.data('target')); }
    });
    cy.nodes().forEach((nd) => nd.style('display', live.has(nd.id()) || nd.data('role') === 'seed' ? 'element' : 'none'));
  });
}

function drawSankey(el, res, st) {
  const chart = window.echarts.init(el, null, { renderer: 'canvas' });
  const asset = st.asset || (res.endpoints[0] && res.endpoints[0].asset);
  const eps = res.endpoints.filter((e) => e.asset === asset && big(e.amount) >= st.min)
    .filter((e) => (!st.from || e.last.slice(0, 10) >= st.from) && (!st.to || e.first.slice(0, 10) <= st.to))
    .sort((a, b) => (big(b.amount) > big(a.amount) ? 1 : -1));
  const names = new Set(['source']);
  const nodes = [{ name: 'source', itemStyle: { color: '#c0392b' } }];
  const cats = new Map();
  const links = [];
  const top = eps.slice(0, 20);
  const rest = eps.slice(20);
  for (const e of top) {
    const cat = '[' + (e.category || e.reason || 'endpoint') + ']';
    cats.set(cat, (cats.get(cat) || 0) + num(e.amount));
    let name = (e.service || short(e.address)) + ' ' + short(e.address);
    while (names.has(name)) name += ' ';
    names.add(name);
    nodes.push({ name, itemStyle: { color: '#2c3e50' } });
    links.push({ source: cat, target: name, value: num(e.amount) });
  }
  if (rest.length) {
    const v = rest.reduce((s, e) => s + num(e.amount), 0);
    cats.set('[other]', (cats.get('[other]') || 0) + v);
    nodes.push({ name: `${rest.length} more endpoints` });
    links.push({ source: '[other]', target: `${rest.length} more endpoints`, value: v });
  }
  for (const [c, v] of cats) {
    nodes.push({ name: c, itemStyle: { color: catColors[c.slice(1, -1)] || '#7f8c8d' } });
    links.push({ source: 'source', target: c, value: v });
  }
  if (eps.length === 0) {
    chart.setOption({ title: { text: 'No endpoint received this asset (with these filters).', left: 'center', top: 'middle', textStyle: { fontSize: 13, color: '#6b7580' } } });
    return chart;
  }
  chart.setOption({
    animation: false,
    tooltip: { trigger: 'item', renderMode: 'richText' },
    series: [{ type: 'sankey', data: nodes, links, emphasis: { focus: 'adjacency' }, nodeAlign: 'left', label: { fontSize: 10 }, lineStyle: { color: 'gradient', curveness: 0.5 } }],
  });
  return chart;
}

function drawTimeline(el, res, st) {
  const chart = window.echarts.init(el, null, { renderer: 'canvas' });
  const endpoints = new Set(res.nodes.filter((n) => n.role === 'endpoint').map((n) => n.chain + ':' + n.address));
  const perDay = new Map();
  const countDay = new Map();
  for (const e of res.edges) {
    if (!edgeVisible(e, st)) continue;
    for (const t of e.transfers) {
      const d = t.time.slice(0, 10);
      countDay.set(d, (countDay.get(d) || 0) + 1);
      if (endpoints.has(e.chain + ':' + e.to)) perDay.set(d, (perDay.get(d) || 0) + num(t.tainted));
    }
  }
  const days = [...new Set([...perDay.keys(), ...countDay.keys()])].sort();
  chart.setOption({
    animation: false,
    tooltip: { trigger: 'axis', renderMode: 'richText' },
    legend: { data: ['to endpoints', 'tainted transfers'] },
    xAxis: { type: 'category', data: days },
    yAxis: [{ type: 'value', name: 'amount' }, { type: 'value', name: 'transfers' }],
    series: [{ name: 'to endpoints', type: 'bar', data: days.map((d) => perDay.get(d) || 0), itemStyle: { color: '#c0392b' } },
      { name: 'tainted transfers', type: 'line', yAxisIndex: 1, data: days.map((d) => countDay.get(d) || 0) }],
  });
  return chart;
}

// ---------- start ----------
window.addEventListener('hashchange', route);
loadSession().catch(() => {}).finally(route);
