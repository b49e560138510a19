// Zona & masker: named polygons (area layanan, pintu, …) and motion masks drawn with the mouse
// on a fresh picture from the camera. Click to add points, click the first point (or Enter) to
// close, drag a point to move it, double-click a point to delete it. Coordinates are stored as
// fractions of the frame (0..1), so one drawing fits the main and the sub stream.

import { h, clear } from "../../dom.js";
import { showError, busy } from "./common.js";
import { runTest } from "./kamera.js";

const SVG = "http://www.w3.org/2000/svg";
const ZONE_NAMES = ["area layanan", "pintu", "loket", "ruang tunggu", "halaman"];
const CLOSE_PX = 14;

let off = [];

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, String(value));
  }
  for (const child of children) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

const round = (v) => Math.round(Math.min(1, Math.max(0, v)) * 10000) / 10000;

export async function mount(root, ctx) {
  const { t, api } = ctx;
  const view = { cameras: [], camera: null, polys: [], selected: -1, drawing: false, dirty: false, width: 1000, height: 562 };
  const message = h("div", { class: "zone-message", id: "zone-message", role: "status" });
  const stage = h("div", { class: "zone-stage", id: "zone-stage" });
  const listBox = h("div", { class: "zone-list", id: "zone-list" });
  const snapBox = h("div", { class: "zone-snap-status" });
  const cameraSelect = h("select", { id: "zone-camera", onchange: (e) => ctx.navigate(`admin/zona/${e.target.value}`) });
  const saveButton = h("button", { type: "button", class: "primary", id: "zone-save", onclick: () => save() }, t("admin.zone.save"));

  try {
    view.cameras = await api.get("cameras");
  } catch (error) {
    showError(root, error, t("admin.load_failed"));
    return;
  }
  if (!view.cameras.length) {
    root.append(h("div", { class: "empty", id: "zone-empty" }, h("p", {}, t("admin.zone.no_cameras")), h("a", { href: "#/admin/kamera" }, t("admin.cam.new"))));
    return;
  }
  view.camera = view.cameras.find((c) => String(c.id) === String(ctx.rest[0])) || view.cameras[0];
  cameraSelect.append(...view.cameras.map((c) => h("option", { value: c.id, selected: c.id === view.camera.id }, c.name)));

  root.append(
    h(
      "div",
      { class: "toolbar" },
      h("label", {}, t("admin.zone.camera"), " ", cameraSelect),
      h("button", { type: "button", id: "zone-refresh", onclick: () => loadPicture() }, t("admin.zone.refresh")),
      snapBox,
    ),
    h(
      "div",
      { class: "zone-layout" },
      h("div", { class: "zone-main" }, stage, h("p", { class: "muted small" }, t("admin.zone.help"))),
      h(
        "aside",
        { class: "card zone-side" },
        h(
          "div",
          { class: "toolbar" },
          h("button", { type: "button", id: "zone-new", onclick: () => startNew("zone") }, t("admin.zone.new_zone")),
          h("button", { type: "button", id: "mask-new", onclick: () => startNew("mask") }, t("admin.zone.new_mask")),
          h("button", { type: "button", id: "zone-close", onclick: () => closeDrawing() }, t("admin.zone.close")),
        ),
        listBox,
        h("datalist", { id: "zone-names" }, ZONE_NAMES.map((n) => h("option", { value: n }))),
        message,
        h("div", { class: "toolbar" }, saveButton, h("button", { type: "button", id: "zone-revert", onclick: () => loadZones() }, t("admin.zone.revert"))),
      ),
    ),
  );

  const say = (text, kind = "info") => {
    clear(message).append(text ? h("p", { class: `zone-msg zone-msg-${kind}` }, text) : "");
  };

  // --- picture and drawing surface --------------------------------------------------------

  const overlay = svg("svg", { class: "zone-svg", id: "zone-svg", preserveAspectRatio: "none" });
  const picture = h("img", { class: "zone-picture", id: "zone-picture", alt: t("admin.zone.picture_alt") });

  function sizeStage() {
    overlay.setAttribute("viewBox", `0 0 ${view.width} ${view.height}`);
    stage.style.aspectRatio = `${view.width} / ${view.height}`;
  }

  async function loadPicture() {
    const box = h("div", {});
    clear(snapBox).append(box);
    const out = await runTest(ctx, box, { camera_id: view.camera.id });
    if (out?.ok) {
      view.width = out.width;
      view.height = out.height;
      picture.src = `data:image/jpeg;base64,${out.jpeg_base64}`;
      picture.hidden = false;
      stage.classList.remove("no-picture");
      clear(snapBox).append(h("span", { class: "muted small", id: "zone-picture-ok" }, t("admin.zone.picture_from", { w: out.width, h: out.height })));
    } else {
      picture.hidden = true;
      stage.classList.add("no-picture");
      box.append(h("p", { class: "muted small" }, t("admin.zone.no_picture")));
    }
    sizeStage();
    draw();
  }

  function toFrame(event) {
    const rect = overlay.getBoundingClientRect();
    return [round((event.clientX - rect.left) / rect.width), round((event.clientY - rect.top) / rect.height)];
  }

  function nearFirst(event, poly) {
    const rect = overlay.getBoundingClientRect();
    const [x, y] = poly.points[0];
    return Math.hypot(event.clientX - (rect.left + x * rect.width), event.clientY - (rect.top + y * rect.height)) <= CLOSE_PX;
  }

  overlay.addEventListener("pointerdown", (event) => {
    if (event.button !== 0 || event.target.classList.contains("handle")) return;
    const poly = view.polys[view.selected];
    if (view.drawing && poly) {
      if (poly.points.length >= 3 && nearFirst(event, poly)) closeDrawing();
      else {
        poly.points.push(toFrame(event));
        view.dirty = true;
        say(t("admin.zone.points_so_far", { n: poly.points.length }));
      }
      draw();
      return;
    }
    const index = event.target.dataset?.index;
    view.selected = index === undefined ? -1 : Number(index);
    draw();
  });

  function dragHandle(event, polyIndex, pointIndex) {
    event.stopPropagation();
    event.preventDefault();
    const poly = view.polys[polyIndex];
    if (view.drawing && polyIndex === view.selected && pointIndex === 0 && poly.points.length >= 3) {
      closeDrawing();
      return;
    }
    const handle = event.target;
    handle.setPointerCapture(event.pointerId);
    const shape = overlay.querySelector(`.shape[data-index="${polyIndex}"]`);
    const move = (e) => {
      const p = toFrame(e);
      poly.points[pointIndex] = p;
      view.dirty = true;
      handle.setAttribute("cx", p[0] * view.width);
      handle.setAttribute("cy", p[1] * view.height);
      shape?.setAttribute("points", poly.points.map((q) => `${q[0] * view.width},${q[1] * view.height}`).join(" "));
    };
    const up = () => {
      handle.removeEventListener("pointermove", move);
      handle.removeEventListener("pointerup", up);
      draw();
    };
    handle.addEventListener("pointermove", move);
    handle.addEventListener("pointerup", up);
  }

  function deletePoint(polyIndex, pointIndex) {
    const poly = view.polys[polyIndex];
    poly.points.splice(pointIndex, 1);
    view.dirty = true;
    if (poly.points.length < 3 && !view.drawing) say(t("admin.zone.too_few", { name: poly.name, n: poly.points.length }), "error");
    draw();
  }

  function centroid(points) {
    const n = points.length || 1;
    return [points.reduce((a, p) => a + p[0], 0) / n, points.reduce((a, p) => a + p[1], 0) / n];
  }

  function draw() {
    const W = view.width;
    const H = view.height;
    const r = Math.max(W, H) / 110;
    const px = (p) => `${p[0] * W},${p[1] * H}`;
    const shapes = [];
    view.polys.forEach((poly, i) => {
      const selected = i === view.selected;
      const open = selected && view.drawing;
      const cls = `shape ${poly.kind}${selected ? " selected" : ""}`;
      const attrs = { class: cls, points: poly.points.map(px).join(" "), "data-index": i, "stroke-width": r / 3 };
      shapes.push(svg(open ? "polyline" : "polygon", attrs));
      if (poly.points.length && !open) {
        const [cx, cy] = centroid(poly.points);
        shapes.push(svg("text", { class: `label ${poly.kind}`, x: cx * W, y: cy * H, "font-size": r * 2.4, "text-anchor": "middle" }, poly.kind === "mask" ? `▨ ${poly.name}` : poly.name));
      }
    });
    const poly = view.polys[view.selected];
    if (poly) {
      poly.points.forEach((p, j) => {
        const handle = svg("circle", {
          class: `handle${j === 0 && view.drawing ? " first" : ""}`,
          cx: p[0] * W,
          cy: p[1] * H,
          r: j === 0 && view.drawing ? r * 1.4 : r,
          "data-point": j,
          onpointerdown: (e) => dragHandle(e, view.selected, j),
          ondblclick: (e) => {
            e.stopPropagation();
            if (!view.drawing) deletePoint(view.selected, j);
          },
        });
        shapes.push(handle);
      });
    }
    while (overlay.firstChild) overlay.removeChild(overlay.firstChild);
    const hatch = svg(
      "pattern",
      { id: "mask-hatch", width: r * 1.6, height: r * 1.6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
      svg("rect", { width: r * 1.6, height: r * 1.6, fill: "rgba(240, 82, 79, .18)" }),
      svg("line", { x1: 0, y1: 0, x2: 0, y2: r * 1.6, stroke: "rgba(240, 82, 79, .85)", "stroke-width": r * 0.5 }),
    );
    overlay.append(svg("defs", {}, hatch), svg("rect", { class: "backdrop", x: 0, y: 0, width: W, height: H }), ...shapes);
    stage.classList.toggle("drawing", view.drawing);
    renderList();
  }

  // --- the list of zones and masks ----------------------------------------------------------

  function renderList() {
    clear(listBox);
    if (!view.polys.length) {
      listBox.append(h("p", { class: "muted", id: "zone-none" }, t("admin.zone.none")));
      return;
    }
    view.polys.forEach((poly, i) => {
      const name = h("input", {
        class: "zone-name",
        value: poly.name,
        list: poly.kind === "zone" ? "zone-names" : null,
        "aria-label": t("admin.zone.name"),
        oninput: (e) => {
          poly.name = e.target.value;
          view.dirty = true;
        },
        onchange: () => draw(),
      });
      listBox.append(
        h(
          "div",
          { class: `zone-row ${poly.kind}${i === view.selected ? " selected" : ""}`, "data-index": i },
          h("span", { class: `swatch ${poly.kind}` }),
          h("div", { class: "zone-row-main" }, name, h("small", { class: "muted" }, `${t(`admin.zone.kind.${poly.kind}`)} · ${t("admin.zone.point_count", { n: poly.points.length })}`)),
          h("button", { type: "button", class: "link", onclick: () => { view.selected = i; view.drawing = false; say(t("admin.zone.editing", { name: poly.name })); draw(); } }, t("admin.edit")),
          h("button", { type: "button", class: "link danger-link", "aria-label": t("admin.delete"), onclick: () => { view.polys.splice(i, 1); view.selected = -1; view.drawing = false; view.dirty = true; draw(); } }, "✕"),
        ),
      );
    });
  }

  function startNew(kind) {
    if (view.drawing && !closeDrawing()) return;
    const n = view.polys.filter((p) => p.kind === kind).length + 1;
    const name = kind === "zone" ? (ZONE_NAMES.find((x) => !view.polys.some((p) => p.name === x)) || `zona ${n}`) : `masker ${n}`;
    view.polys.push({ kind, name, points: [] });
    view.selected = view.polys.length - 1;
    view.drawing = true;
    say(t("admin.zone.drawing_hint"));
    draw();
  }

  /** Finish the polygon being drawn; refused (with a message) below three points. */
  function closeDrawing() {
    const poly = view.polys[view.selected];
    if (!view.drawing || !poly) return true;
    if (poly.points.length < 3) {
      say(t("admin.zone.too_few", { name: poly.name, n: poly.points.length }), "error");
      return false;
    }
    view.drawing = false;
    view.dirty = true;
    say(t("admin.zone.closed", { name: poly.name, n: poly.points.length }), "ok");
    draw();
    return true;
  }

  function onKey(event) {
    if (event.target.tagName === "INPUT") return;
    if (event.key === "Enter") closeDrawing();
    if (event.key === "Escape" && view.drawing) {
      view.polys.splice(view.selected, 1);
      view.selected = -1;
      view.drawing = false;
      say("");
      draw();
    }
  }
  document.addEventListener("keydown", onKey);
  off.push(() => document.removeEventListener("keydown", onKey));

  async function save() {
    for (const poly of view.polys) {
      if (poly.points.length < 3) {
        say(t("admin.zone.too_few", { name: poly.name || "?", n: poly.points.length }), "error");
        return;
      }
      if (!poly.name.trim()) {
        say(t("admin.zone.no_name"), "error");
        return;
      }
    }
    view.drawing = false;
    const body = { zones: [], masks: [] };
    for (const poly of view.polys) (poly.kind === "mask" ? body.masks : body.zones).push({ name: poly.name.trim(), points: poly.points });
    await busy(saveButton, async () => {
      try {
        const out = await api.put(`cameras/${view.camera.id}/zones`, body);
        fill(out);
        say(t("admin.zone.saved", { zones: out.zones.length, masks: out.masks.length }), "ok");
        ctx.toast(t("admin.zone.saved", { zones: out.zones.length, masks: out.masks.length }), "ok");
      } catch (error) {
        showError(message, error, t("admin.zone.refused"));
      }
    });
  }

  function fill(data) {
    view.polys = [...data.zones.map((z) => ({ kind: "zone", ...z })), ...data.masks.map((z) => ({ kind: "mask", ...z }))];
    view.selected = -1;
    view.drawing = false;
    view.dirty = false;
    draw();
  }

  async function loadZones() {
    try {
      fill(await api.get(`cameras/${view.camera.id}/zones`));
      say("");
    } catch (error) {
      showError(message, error, t("admin.load_failed"));
    }
  }

  stage.append(picture, overlay);
  picture.hidden = true;
  sizeStage();
  await loadZones();
  await loadPicture();
}

export function unmount() {
  off.forEach((fn) => fn());
  off = [];
}
