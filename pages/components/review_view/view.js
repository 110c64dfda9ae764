// The Review loop in the browser: document view + candidate panel, keys applied locally.
//
// The server sends a window of the queue (items with their candidates, their documents);
// every key is applied here at once and the next mention is drawn from that window, so a
// curator never waits on a rerun. Verdicts go into an outbox that is sent immediately
// (state value "sync"), kept in localStorage until the server answers each action id, and
// sent again after a reload, a failure, or when the tab is hidden. All data is set as
// text (textContent / createTextNode), never parsed as markup.

const NEAR_EDGE = 8; // report the cursor at once when this close to the window's edge
const REPORT_IDLE_MS = 600; // otherwise after this much idle time
const UNANSWERED_RESEND_MS = 3000;
const VERDICT_KEYS = { n: "nil", x: "not_entity", q: "needs_context", s: "skipped" };
const LABELS = {
  accepted: "accepted",
  corrected: "corrected",
  nil: "NIL (not in KB)",
  wrong_span: "wrong span",
  not_entity: "not an entity",
  skipped: "skipped",
  needs_context: "needs more context",
};

const S = {
  root: null,
  els: null,
  setTrigger: null,
  epoch: null,
  storageKey: "",
  total: 0,
  cursor: 0,
  items: new Map(), // queue index -> item
  status: new Map(), // key string -> status (null: undecided), local changes included
  latest: new Map(), // key string -> latest decision id the server confirmed
  pending: new Map(), // key string -> number of unanswered actions on it
  outbox: [],
  answered: new Map(), // action id -> outcome (ok ones), so later actions can name their base
  undo: [], // {actionId, key}
  seq: 0,
  focusKey: null,
  lastGoto: null,
  reportTimer: null,
  watchdog: null,
  retryTimer: null,
  retryDelay: 1000,
  failing: "",
  refused: "",
  mode: null, // null | {kind: "span", start, end} | {kind: "group", corpus}
  orderBy: "reranker", // whose ranking orders the rows and the number keys (m switches)
  searchFor: null, // the mention key string the search field belongs to
  searchTimer: null,
  searchSeq: 0,
  found: null, // the server's answer: {seq, query, hits, error}
};

const SEARCH_IDLE_MS = 150;

const keyOf = (key) => key.join("\u0000");

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function band(p, blind) {
  if (blind) return "blind";
  if (p === null || p === undefined) return "none";
  return p < 0.5 ? "low" : p < 0.8 ? "mid" : "high";
}

function uid() {
  return (crypto.randomUUID && crypto.randomUUID()) || `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

function mount(parent) {
  // The parent also holds Streamlit's wrapper with the component's <style>: drop only the placeholder.
  parent.querySelectorAll(".bel-review-loading, .bel-review").forEach((node) => node.remove());
  const root = el("div", "bel-review");
  root.tabIndex = -1;
  const doc = el("div", "bel-doc");
  const docHead = el("div", "bel-doc-head");
  const docBody = el("div", "bel-doc-body");
  doc.append(docHead, docBody);
  const panel = el("div", "bel-panel");
  const top = el("div", "bel-top");
  const position = el("span", "bel-position");
  const saved = el("span", "bel-saved");
  saved.setAttribute("role", "status");
  top.append(position, saved);
  const title = el("div", "bel-title");
  const caption = el("div", "bel-caption");
  const context = el("div", "bel-context");
  const statusLine = el("div", "bel-status");
  const keys = el("div", "bel-keys");
  keys.textContent =
    "a accept top · 1-9 pick · n NIL · x not entity · q needs context · s skip · u / Ctrl+Z undo · " +
    "j / k next / previous · w fix span (or select text) · g / G same text in document / corpus · m model order";
  const notice = el("div", "bel-notice");
  const list = el("ol", "bel-candidates");
  const modeLine = el("div", "bel-mode");
  modeLine.setAttribute("role", "status");
  const error = el("div", "bel-error");
  error.setAttribute("role", "alert");
  const search = el("input", "bel-search");
  search.type = "search";
  search.placeholder = "/ search the KB by name, synonym or id (Enter links the first hit)";
  search.setAttribute("aria-label", "Search the KB");
  const searchError = el("div", "bel-search-error");
  searchError.setAttribute("role", "alert");
  const hits = el("ol", "bel-hits");
  search.addEventListener("input", () => scheduleSearch());
  search.addEventListener("keydown", searchKey);
  panel.append(top, title, caption, context, statusLine, modeLine, notice, list, search, searchError, hits, keys, error);
  root.append(doc, panel);
  parent.append(root);
  S.root = root;
  S.els = {
    docHead, docBody, position, saved, title, caption, context, statusLine, modeLine, notice, list, error,
    search, searchError, hits,
  };
  docBody.addEventListener("mouseup", selectSpan);
}

function restoreOutbox() {
  try {
    const stored = JSON.parse(localStorage.getItem(S.storageKey) || "[]");
    if (Array.isArray(stored)) S.outbox = stored;
  } catch (e) {
    S.outbox = [];
  }
  for (const action of S.outbox) {
    const k = keyOf(action.key);
    S.pending.set(k, (S.pending.get(k) || 0) + 1);
  }
}

function saveOutbox() {
  try {
    localStorage.setItem(S.storageKey, JSON.stringify(S.outbox));
  } catch (e) {
    // storage full or disabled: the immediate send still carries every action
  }
}

function send() {
  clearTimeout(S.reportTimer);
  S.reportTimer = null;
  S.seq += 1;
  const item = S.items.get(S.cursor);
  S.setTrigger("sync", {
    outbox: S.outbox,
    cursor: S.cursor,
    cursor_key: item ? item.key : null,
    focus_key: S.focusKey,
    seq: S.seq,
  });
  // A trigger can be dropped when reruns pile up: send again until every action is answered.
  clearTimeout(S.watchdog);
  S.watchdog = S.outbox.length ? setTimeout(() => S.outbox.length && send(), UNANSWERED_RESEND_MS) : null;
}

function reportCursor() {
  const loaded = [...S.items.keys()];
  const lo = Math.min(...loaded);
  const hi = Math.max(...loaded);
  if (!S.items.has(S.cursor) || S.cursor - lo < NEAR_EDGE || hi - S.cursor < NEAR_EDGE) {
    send();
    return;
  }
  clearTimeout(S.reportTimer);
  S.reportTimer = setTimeout(send, REPORT_IDLE_MS);
}

function enqueue(action) {
  S.outbox.push(action);
  const k = keyOf(action.key);
  S.pending.set(k, (S.pending.get(k) || 0) + 1);
  saveOutbox();
  send();
}

function baseOf(k) {
  // The decision an action builds on: the server's latest, or the answer to an earlier
  // action on the same mention that is still in the outbox.
  const earlier = [...S.outbox].reverse().find((a) => keyOf(a.key) === k);
  return earlier ? { after: earlier.id } : { expected: S.latest.has(k) ? S.latest.get(k) : null };
}

function nextUndecided(from) {
  for (let i = from + 1; i < S.total; i++) {
    const item = S.items.get(i);
    if (!item) return i; // not loaded yet: go there, the server sends it
    if (S.status.get(keyOf(item.key)) === null) return i;
  }
  return Math.min(from + 1, S.total - 1);
}

function decide(status, conceptIds) {
  const item = S.items.get(S.cursor);
  if (!item) return;
  const k = keyOf(item.key);
  const group = S.mode && S.mode.kind === "group" ? S.mode : null;
  S.mode = null;
  const action = {
    id: uid(),
    kind: group ? "group" : "decide",
    key: item.key,
    status,
    concept_ids: conceptIds,
    hidden: !!item.blind,
    corpus: group ? group.corpus : false,
    ...baseOf(k),
  };
  S.undo.push({ actionId: action.id, key: item.key, before: S.status.get(k) ?? null, group: !!group });
  S.status.set(k, status);
  if (group) {
    // The members are known once the server answers; locally, mark the loaded ones with the same text.
    const text = item.text.toLowerCase();
    for (const other of S.items.values()) {
      const ok = keyOf(other.key);
      if (other.text.toLowerCase() === text && (group.corpus || other.key[0] === item.key[0]) && S.status.get(ok) === null) {
        S.status.set(ok, status);
      }
    }
  }
  S.refused = "";
  S.cursor = nextUndecided(S.cursor); // first, so the cursor sent with the action is the new one
  enqueue(action);
  render();
}

function undo() {
  const entry = S.undo.pop();
  if (!entry) {
    S.refused = "Nothing to undo in this session.";
    render();
    return;
  }
  const k = keyOf(entry.key);
  const answer = S.answered.get(entry.actionId);
  const keys = entry.group && answer ? answer.keys : [];
  const action = { id: uid(), kind: "undo", key: entry.key, keys, ...baseOf(k) };
  S.status.set(k, entry.before);
  for (const member of keys) if (keyOf(member) !== k) S.status.set(keyOf(member), null);
  const index = [...S.items.entries()].find(([, item]) => keyOf(item.key) === k);
  if (index) S.cursor = index[0];
  else S.focusKey = entry.key; // not in this window (or not in this filter): the server finds it
  enqueue(action); // sent with the cursor (or the mention to find) already moved
  S.focusKey = null;
  render();
}

function rows(item) {
  // Both models' candidates, merged by concept, in the order of the model the curator chose.
  const byId = new Map();
  item.candidates.forEach((c, i) => byId.set(c.id, { ...c, rank: i + 1, gen: null }));
  item.generated.forEach((g) => {
    const row = byId.get(g.id) || { ...g, p: null, rank: null };
    row.gen = g.p ?? g.raw;
    byId.set(g.id, row);
  });
  const merged = [...byId.values()];
  if (S.orderBy === "generator" && item.generated.length) {
    merged.sort((x, y) => (y.gen ?? -1) - (x.gen ?? -1));
  } else {
    merged.sort((x, y) => (x.rank ?? 1e9) - (y.rank ?? 1e9));
  }
  return merged.slice(0, 9);
}

function pick(rank) {
  const item = S.items.get(S.cursor);
  const row = item && rows(item)[rank - 1];
  if (!row) return;
  const top = item.candidates[0];
  decide(top && top.id === row.id ? "accepted" : "corrected", [row.id]);
}

const TOKEN = /[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu;

function tokens(text) {
  return [...text.matchAll(TOKEN)].map((m) => [m.index, m.index + m[0].length]);
}

function scheduleSearch() {
  clearTimeout(S.searchTimer);
  S.searchTimer = setTimeout(() => {
    const query = S.els.search.value.trim();
    S.searchSeq += 1;
    if (!query) {
      S.found = null;
      renderHits();
      return;
    }
    S.setTrigger("search", { query, seq: S.searchSeq });
  }, SEARCH_IDLE_MS);
}

function searchKey(event) {
  if (event.key === "Escape") {
    S.els.search.value = "";
    S.found = null;
    S.els.search.blur();
    renderHits();
  } else if (event.key === "Enter") {
    const hit = S.found && S.found.seq === S.searchSeq && S.found.hits[0];
    if (hit) {
      const item = S.items.get(S.cursor);
      const top = item && item.candidates[0];
      S.els.search.blur();
      decide(top && top.id === hit.id ? "accepted" : "corrected", [hit.id]);
    }
  } else return;
  event.preventDefault();
}

function renderHits() {
  const { hits, searchError } = S.els;
  hits.replaceChildren();
  searchError.textContent = "";
  const found = S.found;
  if (!found || found.seq !== S.searchSeq) return;
  if (found.error) {
    searchError.textContent = found.error;
    return;
  }
  if (!found.hits.length) {
    searchError.textContent = "No concept matches.";
    return;
  }
  for (const hit of found.hits) {
    const row = el("li", "bel-hit");
    row.append(el("span", "bel-name", hit.name), el("span", "bel-id", ` ${hit.id}`));
    if (hit.synonyms.length) row.append(el("span", "bel-alias", hit.synonyms.join(", ")));
    row.addEventListener("click", () => {
      const item = S.items.get(S.cursor);
      const top = item && item.candidates[0];
      decide(top && top.id === hit.id ? "accepted" : "corrected", [hit.id]);
    });
    hits.append(row);
  }
}

function moveEdge(edge, direction) {
  const item = S.items.get(S.cursor);
  const doc = item && S.docs[item.key[0]];
  if (!doc || !S.mode || S.mode.kind !== "span") return;
  const spans = tokens(doc.text);
  const { start, end } = S.mode;
  // One token at a time; the span never becomes empty and stays put at the text's ends.
  const pickFrom = (values, best) => (values.length ? best(...values) : null);
  if (edge === "start") {
    const starts = spans.map((t) => t[0]);
    const moved = direction < 0 ? pickFrom(starts.filter((x) => x < start), Math.max) : pickFrom(starts.filter((x) => x > start && x < end), Math.min);
    if (moved !== null) S.mode.start = moved;
  } else {
    const ends = spans.map((t) => t[1]);
    const moved = direction > 0 ? pickFrom(ends.filter((x) => x > end), Math.min) : pickFrom(ends.filter((x) => x < end && x > start), Math.max);
    if (moved !== null) S.mode.end = moved;
  }
  render();
}

function saveSpan(kind) {
  const item = S.items.get(S.cursor);
  if (!item || !S.mode || S.mode.kind !== "span") return;
  const span = [S.mode.start, S.mode.end];
  S.mode = null;
  if (kind === "span" && span[0] === item.key[1] && span[1] === item.key[2]) {
    render();
    return;
  }
  enqueue({ id: uid(), kind, key: item.key, span, ...baseOf(keyOf(item.key)) });
  render();
}

function textOffset(root, node, offset) {
  const range = document.createRange();
  range.setStart(root, 0);
  range.setEnd(node, offset);
  return range.toString().length;
}

function selectSpan() {
  // A selection in the document proposes a span: Enter fixes the current mention to it, "m" adds it.
  const item = S.items.get(S.cursor);
  const selection = (S.root.getRootNode().getSelection ? S.root.getRootNode() : document).getSelection();
  if (!item || !selection || selection.isCollapsed || !selection.rangeCount) return;
  const range = selection.getRangeAt(0);
  const body = S.els.docBody;
  if (!body.contains(range.startContainer) || !body.contains(range.endContainer)) return;
  let start = textOffset(body, range.startContainer, range.startOffset);
  let end = textOffset(body, range.endContainer, range.endOffset);
  const text = S.docs[item.key[0]].text;
  while (start < end && /\s/.test(text[start])) start++;
  while (end > start && /\s/.test(text[end - 1])) end--;
  if (start >= end) return;
  S.mode = { kind: "span", start, end, selected: true };
  render();
}

function onKey(event) {
  if (!S.root || !S.root.isConnected) return;
  const target = event.composedPath()[0];
  if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
  const ctrlZ = (event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === "z";
  if (!ctrlZ && (event.ctrlKey || event.metaKey || event.altKey)) return;
  const key = event.key;
  let handled = true;
  if (S.mode && S.mode.kind === "span") {
    if (key === "ArrowLeft" || key === "ArrowRight") moveEdge(event.shiftKey ? "start" : "end", key === "ArrowLeft" ? -1 : 1);
    else if (key === "Enter") saveSpan("span");
    else if (key === "m") saveSpan("add");
    else if (key === "Escape" || key === "w") {
      S.mode = null;
      render();
    } else handled = false;
    if (handled) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
  }
  if (key === "Escape" && S.mode) {
    S.mode = null;
    render();
  } else if (ctrlZ || key === "u") undo();
  else if (key === "/") S.els.search.focus();
  else if (key === "w") openSpan();
  else if (key === "g" || key === "G") openGroup(key === "G");
  else if (key === "m") {
    S.orderBy = S.orderBy === "reranker" ? "generator" : "reranker";
    render();
  } else if (key === "Escape") handled = false;
  else if (key === "j") move(1);
  else if (key === "k") move(-1);
  else if (key === "a") pick(1);
  else if (/^[1-9]$/.test(key)) pick(Number(key));
  else if (VERDICT_KEYS[key]) decide(VERDICT_KEYS[key], []);
  else handled = false;
  if (handled) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}

function openSpan() {
  const item = S.items.get(S.cursor);
  if (!item) return;
  S.mode = { kind: "span", start: item.key[1], end: item.key[2] };
  render();
}

function openGroup(corpus) {
  const item = S.items.get(S.cursor);
  if (!item) return;
  S.mode = { kind: "group", corpus };
  render();
}

function move(offset) {
  S.mode = null;
  const next = Math.max(0, Math.min(S.total - 1, S.cursor + offset));
  if (next === S.cursor) return;
  S.cursor = next;
  render();
  reportCursor();
}

function scheduleRetry() {
  if (S.retryTimer) return;
  S.retryTimer = setTimeout(() => {
    S.retryTimer = null;
    if (S.outbox.length) send();
  }, S.retryDelay);
  S.retryDelay = Math.min(S.retryDelay * 2, 15000);
}

function applyAnswers(acks) {
  const left = [];
  let retry = "";
  for (const action of S.outbox) {
    const answer = acks[action.id];
    if (!answer || answer.retry) {
      if (answer) retry = answer.error;
      left.push(action);
      continue;
    }
    const k = keyOf(action.key);
    S.pending.set(k, (S.pending.get(k) || 1) - 1);
    if (answer.ok) {
      S.answered.set(action.id, answer);
      S.latest.set(k, answer.decision_id);
      if (!S.pending.get(k)) S.status.set(k, answer.status);
    } else {
      S.refused = `Not saved: ${answer.error}`;
    }
  }
  const changed = left.length !== S.outbox.length;
  S.outbox = left;
  if (changed) saveOutbox();
  S.failing = retry;
  if (retry) scheduleRetry();
  else S.retryDelay = 1000;
}

function update(data) {
  S.total = data.total;
  if (data.epoch !== S.epoch) {
    S.epoch = data.epoch;
    S.items = new Map();
    S.cursor = data.cursor;
  }
  applyAnswers(data.acks || {});
  for (const item of data.items) {
    S.items.set(item.i, item);
    const k = keyOf(item.key);
    if (!S.pending.get(k)) {
      S.status.set(k, item.status);
      if (item.latest_id === null) S.latest.delete(k);
      else S.latest.set(k, item.latest_id);
    }
  }
  for (const [docId, doc] of Object.entries(data.docs)) {
    for (const span of doc.mentions) {
      const k = keyOf([docId, span.s, span.e]);
      if (!S.pending.get(k) && !S.status.has(k)) S.status.set(k, span.status);
    }
  }
  S.docs = { ...(S.docs || {}), ...data.docs };
  if (data.search) S.found = data.search;
  if (data.goto && data.goto.nonce !== S.lastGoto) {
    S.lastGoto = data.goto.nonce;
    S.cursor = data.goto.index;
  }
  S.cursor = Math.max(0, Math.min(S.total - 1, S.cursor));
  render();
}

function renderSaved() {
  const { saved } = S.els;
  if (S.failing) {
    saved.textContent = `Save failed, retrying (${S.outbox.length} waiting)`;
    saved.dataset.state = "failed";
  } else if (S.outbox.length) {
    saved.textContent = `Saving ${S.outbox.length}…`;
    saved.dataset.state = "saving";
  } else {
    saved.textContent = "All saved";
    saved.dataset.state = "saved";
  }
}

function renderDocument(item) {
  const { docHead, docBody } = S.els;
  const doc = S.docs[item.key[0]];
  docHead.textContent = item.key[0];
  docBody.replaceChildren();
  if (!doc) return;
  const text = doc.text;
  let at = 0;
  let current = null;
  for (const span of doc.mentions) {
    if (span.s < at || span.e > text.length) continue;
    docBody.append(document.createTextNode(text.slice(at, span.s)));
    const k = keyOf([item.key[0], span.s, span.e]);
    const status = S.status.has(k) ? S.status.get(k) : span.status;
    const mark = el("mark", `bel-m bel-${band(span.p, span.blind)}`, text.slice(span.s, span.e));
    if (status && status !== "skipped" && status !== "needs_context") mark.classList.add("bel-decided");
    // A blind mention's hover names no score; none was sent for it anyway.
    const p = span.blind || span.p === null ? "" : `p = ${span.p.toFixed(2)}; `;
    mark.title = `${p}${status ? LABELS[status] || status : "undecided"}`;
    if (span.s === item.key[1] && span.e === item.key[2]) {
      mark.classList.add("bel-current");
      current = mark;
    }
    docBody.append(mark);
    at = span.e;
  }
  docBody.append(document.createTextNode(text.slice(at)));
  if (current) {
    const top = current.offsetTop - docBody.offsetTop;
    docBody.scrollTop = Math.max(0, top - docBody.clientHeight / 3);
  }
}

function renderContext(item) {
  const { context } = S.els;
  context.replaceChildren();
  const doc = S.docs[item.key[0]];
  if (!doc) return;
  const [, start, end] = item.key;
  const from = Math.max(0, start - 160);
  const to = Math.min(doc.text.length, end + 160);
  context.append(
    document.createTextNode((from > 0 ? "…" : "") + doc.text.slice(from, start)),
    el("b", "", doc.text.slice(start, end)),
    document.createTextNode(doc.text.slice(end, to) + (to < doc.text.length ? "…" : "")),
  );
}

function renderCandidates(item) {
  const { list, notice } = S.els;
  list.replaceChildren();
  notice.textContent = "";
  if (item.blind) {
    notice.textContent = "Blind review: suggestions and scores are hidden. Find the concept by KB search below.";
    return;
  }
  if (!item.candidates.length) {
    notice.textContent = "No KB candidates: search the KB below, or press n for NIL.";
    return;
  }
  if (item.nil_p !== null && item.nil_p !== undefined) {
    notice.textContent = `P(not in KB) = ${item.nil_p.toFixed(2)}. `;
  }
  const twoModels = item.generated.length > 0;
  if (twoModels && item.candidates.length && item.generated[0].id !== item.candidates[0].id) {
    notice.textContent = `The models disagree: the generator's top is ${item.generated[0].name} (${item.generated[0].id}). `;
  }
  if (twoModels) notice.textContent += `Ordered by the ${S.orderBy} (m switches).`;
  rows(item).forEach((c, index) => {
    const row = el("li", "bel-cand");
    const rank = el("span", "bel-rank", String(index + 1));
    const names = el("span", "bel-names");
    names.append(el("span", "bel-name", c.name), el("span", "bel-id", ` ${c.id}`));
    names.append(el("span", "bel-alias", `matched “${c.alias}” · ${c.stage}`));
    const p = c.p === null ? null : c.p;
    const score = el("span", "bel-score");
    const bar = el("span", "bel-bar");
    const fill = el("span", `bel-fill bel-${band(p, false)}`);
    fill.style.width = `${Math.round(100 * (p ?? 0))}%`;
    bar.append(fill);
    score.append(bar, el("span", "bel-p", p === null ? (c.rank ? `raw ${c.raw.toFixed(2)}` : "–") : p.toFixed(2)));
    if (twoModels) score.append(el("span", "bel-gen", c.gen === null ? "gen –" : `gen ${c.gen.toFixed(2)}`));
    row.append(rank, names, score);
    row.addEventListener("click", () => pick(index + 1));
    list.append(row);
  });
}

function renderMode(item) {
  const { modeLine } = S.els;
  modeLine.textContent = "";
  modeLine.dataset.mode = S.mode ? S.mode.kind : "";
  if (!S.mode) return;
  if (S.mode.kind === "group") {
    const n = S.mode.corpus ? item.same_corpus : item.same_document;
    const where = S.mode.corpus ? "in the whole corpus" : "in this document";
    modeLine.textContent = `Group: the next verdict (a, 1-9, n, x, q, s) also goes to the undecided of ${n} more “${item.text}” ${where}; one u undoes it all. Esc cancels.`;
    return;
  }
  const doc = S.docs[item.key[0]];
  const text = doc ? doc.text.slice(S.mode.start, S.mode.end) : "";
  modeLine.textContent =
    `Span ${S.mode.start}-${S.mode.end}: “${text}” · Shift+←/→ move the start, ←/→ the end · ` +
    "Enter: fix this mention's span (its place in the queue is kept) · m: add it as a new mention · Esc cancels";
}

function render() {
  if (!S.els) return;
  const { position, title, caption, statusLine, error } = S.els;
  renderSaved();
  error.textContent = S.refused;
  const item = S.items.get(S.cursor);
  position.textContent = S.total ? `Item ${S.cursor + 1} of ${S.total}` : "No mention matches these filters";
  if (!item) {
    title.textContent = S.total ? "Loading…" : "";
    caption.textContent = "";
    S.els.context.replaceChildren();
    S.els.list.replaceChildren();
    S.els.notice.textContent = "";
    S.root.dataset.rendered = "";
    if (S.total) reportCursor();
    return;
  }
  const shownKey = keyOf(item.key);
  if (S.searchFor !== shownKey) {
    // A new mention starts with an empty search.
    S.searchFor = shownKey;
    S.els.search.value = "";
    S.searchSeq += 1;
    S.found = null;
  }
  renderHits();
  title.textContent = `“${item.text}”`;
  caption.textContent = item.caption;
  const status = S.status.get(keyOf(item.key));
  statusLine.textContent = status ? `Latest decision: ${LABELS[status] || status}` : "Undecided";
  statusLine.dataset.status = status || "undecided";
  renderContext(item);
  renderCandidates(item);
  renderDocument(item);
  renderMode(item);
  // The marker the benchmark and the browser tests wait for: this mention is on screen.
  S.root.dataset.rendered = String(S.cursor);
  S.root.dataset.renderedKey = item.key.join("|");
  const shown = S.cursor;
  requestAnimationFrame(() => {
    window.__belReview = { index: shown, key: item.key, paintedAt: performance.now() };
  });
}

function flushOnHide() {
  if (document.visibilityState === "hidden" && S.outbox.length && S.setTrigger) send();
}

let listening = false;

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  S.setTrigger = setTriggerValue;
  if (!listening) {
    document.addEventListener("keydown", onKey, true);
    document.addEventListener("visibilitychange", flushOnHide);
    window.addEventListener("pagehide", flushOnHide);
    listening = true;
  }
  if (S.root === null || !S.root.isConnected || S.root.parentNode !== parentElement) {
    mount(parentElement);
    S.epoch = null;
    S.storageKey = data.storage_key;
    S.outbox = [];
    S.pending = new Map();
    restoreOutbox();
    update(data);
    if (S.outbox.length) send(); // left over from a tab closed before the server answered
    return;
  }
  update(data);
}
