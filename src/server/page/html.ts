/**
 * The status page shell; assets/app.js fills `#streams` from api/streams. Every URL is relative
 * to the page, so it also works behind a proxy that serves klaxon under a path prefix.
 */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>klaxon · drift monitor</title>
<link rel="icon" href="favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="assets/app.css">
<script src="assets/app.js" defer></script>
</head>
<body>
<header class="top">
  <div class="brand"><img src="favicon.svg" alt="" width="22" height="22"><span>klaxon</span></div>
  <div class="summary" id="summary" aria-live="polite"></div>
  <div class="conn" id="conn" data-state="connecting"><span class="dot"></span><span id="conn-text">connecting…</span></div>
</header>
<main id="streams" class="grid"></main>
<dialog id="op-dialog" class="op-dialog" aria-labelledby="op-title">
  <form id="op-form" novalidate>
    <h2 id="op-title">Operator action</h2>
    <p id="op-text"></p>
    <label id="op-token-row" hidden>API token
      <input id="op-token" name="token" type="password" autocomplete="off" spellcheck="false">
      <span class="hint">Kept in this tab only (sessionStorage) and sent as a bearer header.</span>
    </label>
    <div class="dialog-buttons"><button type="button" id="op-cancel">Cancel</button><button type="submit" id="op-confirm">Confirm</button></div>
  </form>
</dialog>
<noscript><p class="empty">This page needs JavaScript. The same data is at <a href="api/streams">/api/streams</a> and <a href="metrics">/metrics</a>.</p></noscript>
<footer class="foot">
  <span>Divergences in nats · ± one standard error · KL(ref‖win) = KL(reference ‖ window)</span>
  <span><a href="api/streams">/api/streams</a> · <a href="metrics">/metrics</a></span>
</footer>
</body>
</html>
`;

/** A tiny horn. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<rect width="32" height="32" rx="7" fill="#1f2633"/>
<path d="M7 13h4l9-6v18l-9-6H7z" fill="#f0a92e"/>
<path d="M23 11.5a6 6 0 0 1 0 9M25.5 8.5a10 10 0 0 1 0 15" stroke="#f0a92e" stroke-width="2" fill="none" stroke-linecap="round"/>
</svg>
`;
