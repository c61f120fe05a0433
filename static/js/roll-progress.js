// The roll import's progress: while the import runs, fetch the same page every two seconds and
// replace the progress region (announced politely). Without JavaScript the page has a
// "Check progress" link instead.
const region = document.getElementById("roll-progress");

function refresh() {
  const url = region && region.dataset.rollRefresh;
  if (!url) return;
  window.setTimeout(async () => {
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!response.ok) return;
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const next = page.getElementById("roll-progress");
      if (!next) return;
      if (!next.dataset.rollRefresh) {
        // Finished or stopped: load the page itself (its heading and any "Continue" button).
        window.location.reload();
        return;
      }
      region.innerHTML = next.innerHTML;
      refresh();
    } catch (error) {
      // Offline for a moment: the "Check progress" link still works.
    }
  }, 2000);
}

refresh();
