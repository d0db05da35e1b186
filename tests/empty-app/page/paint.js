// As Rapport's ui/src/lib/firstPaint.ts: two animation frames after the page is on screen,
// ask the app how long it has run and leave the answer where the launch bench reads it.
requestAnimationFrame(() => {
  requestAnimationFrame(() => {
    window.__TAURI_INTERNALS__
      .invoke("startup_mark", { label: "empty_first_paint" })
      .then((ms) => {
        document.body.dataset.firstPaintPage = "empty";
        document.body.dataset.firstPaintMs = String(ms);
      })
      .catch((e) => {
        document.body.dataset.firstPaintError = String(e);
      });
  });
});
