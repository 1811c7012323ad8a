#include "cotrain/serve/web_page.h"

namespace cotrain::serve {

const std::string& search_page_html() {
  static const std::string page = R"PAGE(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>cotrain search</title>
<style>
body{font-family:system-ui,-apple-system,"DejaVu Sans",sans-serif;margin:20px;color:#222;background:#fafafa}
h1{font-size:20px;margin:0 0 12px}
form{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin-bottom:10px}
input[type=text]{font-size:16px;padding:6px 8px;width:22em}
select,button{font-size:15px;padding:5px 10px}
#status{color:#555;font-size:13px;margin:6px 0 12px;min-height:1.2em}
#status.error{color:#b00020}
#results{display:grid;grid-template-columns:repeat(auto-fill,minmax(140px,1fr));gap:12px}
#results.texts{grid-template-columns:1fr}
figure.result{margin:0;background:#fff;border:1px solid #e2e2e2;border-radius:6px;padding:8px;text-align:center}
figure.result img{width:96px;height:96px;object-fit:contain;image-rendering:auto}
figure.result .noimg{width:96px;height:96px;display:inline-block;background:#eee}
figure.result figcaption{font-size:12px;word-break:break-word}
#results.texts figure.result{text-align:left}
.score{color:#777;font-variant-numeric:tabular-nums}
</style></head>
<body>
<h1>cotrain search</h1>
<form id="search">
  <input id="q" type="text" name="q" placeholder="describe an image, e.g. smiling face" autocomplete="off" autofocus>
  <select id="mode" name="mode">
    <option value="text-to-images">text &rarr; images</option>
    <option value="text-to-texts">text &rarr; texts</option>
  </select>
  <label>k <select id="k"><option>5</option><option selected>10</option><option>20</option><option>50</option></select></label>
  <button type="submit">Search</button>
  <span>or an image: <input id="file" type="file" accept="image/*"></span>
  <select id="imode"><option value="image-to-texts">image &rarr; texts</option>
    <option value="image-to-images">image &rarr; images</option></select>
</form>
<div id="status"></div>
<div id="results"></div>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
function status(text, isError) { $("status").textContent = text; $("status").className = isError ? "error" : ""; }
function render(answer) {
  const box = $("results");
  box.replaceChildren();
  const images = answer.mode.endsWith("images");
  box.className = images ? "images" : "texts";
  for (const r of answer.results) {
    const fig = document.createElement("figure");
    fig.className = "result";
    fig.dataset.id = r.id;
    fig.dataset.rank = r.rank;
    if (images) {
      if (r.thumbnail) {
        const img = document.createElement("img");
        img.src = r.thumbnail; img.alt = r.id;
        fig.appendChild(img);
      } else {
        const none = document.createElement("span"); none.className = "noimg"; fig.appendChild(none);
      }
    }
    const cap = document.createElement("figcaption");
    cap.textContent = (images ? r.id : r.text) + " ";
    const score = document.createElement("span");
    score.className = "score"; score.textContent = r.score.toFixed(3);
    cap.appendChild(score);
    fig.appendChild(cap);
    box.appendChild(fig);
  }
  status(answer.results.length + " results in " + answer.took_ms.toFixed(1) + " ms (" + answer.mode + ")", false);
}
async function call(path, init) {
  status("searching...", false);
  try {
    const res = await fetch(path, init);
    const body = await res.json();
    if (!res.ok) { status("error " + res.status + ": " + body.error, true); return; }
    render(body);
  } catch (e) { status("request failed: " + e, true); }
}
function searchText() {
  const q = $("q").value.trim();
  if (!q) { status("type a query", true); return; }
  const mode = $("mode").value;
  const url = new URL(window.location); url.searchParams.set("q", q); url.searchParams.set("mode", mode);
  history.replaceState(null, "", url);
  call("/api/" + mode, {method: "POST", headers: {"Content-Type": "application/json"},
                        body: JSON.stringify({query: q, k: parseInt($("k").value, 10)})});
}
$("search").addEventListener("submit", (e) => { e.preventDefault(); searchText(); });
$("file").addEventListener("change", () => {
  const f = $("file").files[0];
  if (!f) return;
  call("/api/" + $("imode").value + "?k=" + $("k").value,
       {method: "POST", headers: {"Content-Type": f.type || "application/octet-stream"}, body: f});
});
const params = new URLSearchParams(window.location.search);
if (params.get("mode") === "text-to-texts") $("mode").value = "text-to-texts";
if (params.get("q")) { $("q").value = params.get("q"); searchText(); }
</script>
</body></html>
)PAGE";
  return page;
}

}  // namespace cotrain::serve
