package main

import (
	"bytes"
	"encoding/json"
	"html/template"
	"io"
	"strconv"
	"time"
)

// The HTML report is one self-contained page: the data as JSON in a script
// element, the treemap drawn by a small script of our own, no network fetch of
// any kind (no fonts, no CDN), so it opens offline and can be mailed around.

// htmlPrefixNodes bounds the prefixes drawn in the treemap.
const htmlPrefixNodes = 2000

type htmlNode struct {
	Name     string      `json:"name"`
	Bytes    int64       `json:"bytes"`
	Keys     int64       `json:"keys"`
	Children []*htmlNode `json:"children,omitempty"`
	prefix   []byte
}

// prefixTree builds the treemap's hierarchy: each prefix under the prefix it
// extends, and what the shown children do not cover as "(other keys)".
func (v *memoryView) prefixTree() *htmlNode {
	rep := v.rep
	root := &htmlNode{Name: "all keys", Bytes: rep.Total.Bytes, Keys: rep.Total.Keys}
	ps := rep.Prefixes.Prefixes
	ps = ps[:min(len(ps), htmlPrefixNodes)]
	byPrefix := map[string]*htmlNode{}
	// Shallow first, so that parents exist before their children.
	for depth := 1; depth <= rep.Prefixes.Depth; depth++ {
		for _, p := range ps {
			if p.Depth != depth {
				continue
			}
			n := &htmlNode{Name: displayBytes(p.Prefix, 80) + "*", Bytes: p.Bytes, Keys: p.Keys, prefix: p.Prefix}
			parent := root
			for cut := len(p.Prefix) - 1; cut > 0; cut-- {
				if par := byPrefix[string(p.Prefix[:cut])]; par != nil {
					parent = par
					break
				}
			}
			if depth > 1 && parent == root {
				continue // its parent was not kept: drawing it at the top would mislead
			}
			parent.Children = append(parent.Children, n)
			byPrefix[string(p.Prefix)] = n
		}
	}
	if rep.Prefixes.NoPrefixKeys > 0 {
		root.Children = append(root.Children, &htmlNode{Name: "(no separator)", Bytes: rep.Prefixes.NoPrefixBytes, Keys: rep.Prefixes.NoPrefixKeys})
	}
	var fill func(n *htmlNode)
	fill = func(n *htmlNode) {
		var b, k int64
		for _, c := range n.Children {
			fill(c)
			b += c.Bytes
			k += c.Keys
		}
		if len(n.Children) > 0 && n.Bytes > b {
			n.Children = append(n.Children, &htmlNode{Name: "(other keys)", Bytes: n.Bytes - b, Keys: max(0, n.Keys-k)})
		}
	}
	fill(root)
	return root
}

type htmlTable struct {
	Title  string
	Header []string
	Right  []bool
	Rows   [][]string
}

type htmlPage struct {
	Title   string
	Summary [][2]string
	Note    string
	Tables  []htmlTable
	Data    template.JS
	CSS     template.CSS
	Script  template.JS
}

func writeMemoryHTML(w io.Writer, v *memoryView) error {
	tree, err := json.Marshal(v.prefixTree()) // escapes <, > and & for a script element
	if err != nil {
		return err
	}
	page := htmlPage{
		Title: "rdbtool memory: " + v.name,
		Data:  template.JS(tree),
		CSS:   template.CSS(htmlCSS),
		// The script is a constant of this file, not data.
		Script: template.JS(htmlScript),
	}
	for _, s := range v.sections() {
		if s.KV != nil {
			page.Summary = append(page.Summary, s.KV...)
			continue
		}
		page.Tables = append(page.Tables, htmlTable{Title: s.Title, Header: s.Header, Right: s.Right, Rows: s.Rows})
	}
	page.Note = "Memory is what MEMORY USAGE would report after a Redis 7.0 (jemalloc) server loaded the file (model " +
		v.rep.Model + "); TTLs are relative to " + time.UnixMilli(v.rep.NowMs).UTC().Format(time.RFC3339) + "."
	if v.rep.Prefixes.Pruned {
		page.Note += " Prefixes are approximate: more than " + strconv.Itoa(v.capacity) + " distinct ones were seen and the smallest dropped; figures may be low by up to " + humanBytes(v.rep.Prefixes.MaxUndercount) + "."
	}
	var buf bytes.Buffer
	if err := htmlTemplate.Execute(&buf, page); err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}

var htmlTemplate = template.Must(template.New("memory").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>{{.CSS}}</style>
</head>
<body>
<header><h1>{{.Title}}</h1><p class="note">{{.Note}}</p></header>
<section class="summary"><table>{{range .Summary}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>{{end}}</table></section>
<section class="treemap-box">
<h2>Memory by key prefix</h2>
<p class="hint">Click a prefix to zoom in; click the path above the map to go back. Sizes are areas.</p>
<nav id="crumbs"></nav>
<div id="treemap" role="img" aria-label="treemap of memory by key prefix"></div>
<div id="tip" hidden></div>
</section>
{{range .Tables}}<section class="breakdown"><h2>{{.Title}}</h2>
<table><thead><tr>{{range $i, $h := .Header}}<th>{{$h}}</th>{{end}}</tr></thead>
<tbody>{{$right := .Right}}{{range .Rows}}<tr>{{range $i, $c := .}}<td{{if and (lt $i (len $right)) (index $right $i)}} class="num"{{end}}>{{$c}}</td>{{end}}</tr>{{end}}</tbody></table>
</section>
{{end}}
<div id="js-errors"></div>
<script id="tree-data" type="application/json">{{.Data}}</script>
<script>{{.Script}}</script>
</body>
</html>
`))

const htmlCSS = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1200px;padding:16px;color:#1d2330;background:#fafbfc}
h1{font-size:20px;margin:0 0 4px;word-break:break-all}h2{font-size:16px;margin:24px 0 8px}
.note,.hint{color:#5a6372;margin:4px 0}
table{border-collapse:collapse;background:#fff;font-variant-numeric:tabular-nums}
th,td{border:1px solid #dde1e6;padding:3px 8px;text-align:left;vertical-align:top;max-width:480px;overflow-wrap:anywhere}
thead th{background:#eef1f5}.summary th{background:#eef1f5;font-weight:600}
td.num{text-align:right;white-space:nowrap}
#crumbs{margin:4px 0 6px}#crumbs a{color:#1f5fbf;cursor:pointer;text-decoration:underline}#crumbs span.sep{color:#888;margin:0 4px}
#treemap{position:relative;width:100%;height:520px;background:#fff;border:1px solid #c9ced6;overflow:hidden}
.tm-node{position:absolute;box-sizing:border-box;border:1px solid #fff;overflow:hidden;color:#fff;font-size:12px;padding:3px 4px;cursor:pointer;line-height:1.25}
.tm-node.leaf{cursor:default}
.tm-node .tm-name{font-weight:600;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.tm-node .tm-size{opacity:.9;white-space:nowrap}
#tip{position:fixed;pointer-events:none;background:#1d2330;color:#fff;padding:6px 8px;border-radius:4px;font-size:12px;max-width:420px;overflow-wrap:anywhere}
#js-errors:empty{display:none}#js-errors{color:#b00020;white-space:pre-wrap}
`

// htmlScript draws a squarified treemap (Bruls, Huizing and van Wijk) of the
// prefix tree, one level at a time, with zoom by click and a tooltip.
const htmlScript = `
(function () {
  "use strict";
  var errors = document.getElementById("js-errors");
  window.addEventListener("error", function (e) {
    errors.textContent += "error: " + e.message + "\n";
    document.body.setAttribute("data-rendered", "error");
  });
  var data = JSON.parse(document.getElementById("tree-data").textContent);
  var box = document.getElementById("treemap");
  var crumbs = document.getElementById("crumbs");
  var tip = document.getElementById("tip");
  var palette = ["#3b6fb6", "#c4572a", "#2f8f5b", "#8a4fb0", "#b58a12", "#2a8c9e", "#b8406a", "#5b6b2e", "#6a5acd", "#a0522d"];
  var path = [data];

  function human(n) {
    if (n < 1024) return n + " B";
    var u = ["KiB", "MiB", "GiB", "TiB", "PiB"], i = -1;
    do { n /= 1024; i++; } while (n >= 1024 && i < u.length - 1);
    return n.toFixed(1) + " " + u[i];
  }
  function share(n) {
    return data.bytes > 0 ? (100 * n / data.bytes).toFixed(1) + "%" : "0%";
  }

  // squarify lays items (sorted by size, largest first) out in the rectangle.
  function squarify(items, x, y, w, h, total, out) {
    var i = 0;
    while (i < items.length && w > 0 && h > 0) {
      var short = Math.min(w, h), row = [], rowSum = 0, worst = Infinity;
      while (i < items.length) {
        var s = items[i].value, next = row.concat([items[i]]), sum = rowSum + s;
        var area = sum * w * h / total, side = area / short, wr = 0;
        for (var j = 0; j < next.length; j++) {
          var a = next[j].value * w * h / total, len = a / side;
          wr = Math.max(wr, Math.max(side / len, len / side));
        }
        if (row.length > 0 && wr > worst) break;
        row = next; rowSum = sum; worst = wr; i++;
      }
      var rowArea = rowSum * w * h / total, thick = rowArea / short, off = 0;
      for (var k = 0; k < row.length; k++) {
        var len2 = row[k].value * w * h / total / thick;
        if (w >= h) out.push({item: row[k].item, x: x, y: y + off, w: thick, h: len2});
        else out.push({item: row[k].item, x: x + off, y: y, w: len2, h: thick});
        off += len2;
      }
      if (w >= h) { x += thick; w -= thick; } else { y += thick; h -= thick; }
      total -= rowSum;
    }
    return out;
  }

  function drawCrumbs() {
    crumbs.textContent = "";
    path.forEach(function (n, i) {
      if (i > 0) {
        var s = document.createElement("span"); s.className = "sep"; s.textContent = "›"; crumbs.appendChild(s);
      }
      var a = document.createElement(i < path.length - 1 ? "a" : "span");
      a.textContent = n.name + " (" + human(n.bytes) + ")";
      if (i < path.length - 1) a.addEventListener("click", function () { path = path.slice(0, i + 1); draw(); });
      crumbs.appendChild(a);
    });
  }

  function draw() {
    drawCrumbs();
    box.textContent = "";
    var node = path[path.length - 1];
    var kids = (node.children || []).filter(function (c) { return c.bytes > 0; });
    if (kids.length === 0) kids = [node];
    kids.sort(function (a, b) { return b.bytes - a.bytes || (a.name < b.name ? -1 : 1); });
    var total = 0;
    var items = kids.map(function (c) { total += c.bytes; return {item: c, value: c.bytes}; });
    var W = box.clientWidth, H = box.clientHeight;
    var rects = squarify(items, 0, 0, W, H, total, []);
    rects.forEach(function (r, i) {
      var c = r.item, el = document.createElement("div");
      el.className = "tm-node" + (c.children && c !== node ? "" : " leaf");
      el.style.left = r.x + "px"; el.style.top = r.y + "px";
      el.style.width = Math.max(0, r.w) + "px"; el.style.height = Math.max(0, r.h) + "px";
      el.style.background = c.name.charAt(0) === "(" ? "#8a929e" : palette[i % palette.length];
      el.setAttribute("data-prefix", c.name);
      var name = document.createElement("div"); name.className = "tm-name"; name.textContent = c.name;
      var size = document.createElement("div"); size.className = "tm-size"; size.textContent = human(c.bytes) + " · " + share(c.bytes);
      el.appendChild(name); el.appendChild(size);
      el.addEventListener("mousemove", function (ev) {
        tip.hidden = false;
        tip.textContent = c.name + "\n" + human(c.bytes) + " (" + share(c.bytes) + " of all), " + c.keys + " keys";
        tip.style.whiteSpace = "pre-line";
        tip.style.left = (ev.clientX + 12) + "px"; tip.style.top = (ev.clientY + 12) + "px";
      });
      el.addEventListener("mouseleave", function () { tip.hidden = true; });
      if (c.children && c !== node) el.addEventListener("click", function () { path.push(c); tip.hidden = true; draw(); });
      box.appendChild(el);
    });
  }

  draw();
  window.addEventListener("resize", draw);
  if (document.body.getAttribute("data-rendered") !== "error") document.body.setAttribute("data-rendered", "ok");
})();
`
