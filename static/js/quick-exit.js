// "Hide this page" (templates/_partials/hide_page.html). A classic script in <head>, before the
// page is drawn, so that a portal page reached again with Back never shows.
//
// - The control: blank the page at once, then location.replace() to the neutral page (another
//   site): the portal page is swapped out of the history rather than left behind it.
// - Back from the neutral page reaches the portal page before that one (a Back-Forward
//   navigation; the pages are no-store, so it is fetched again, or restored from the
//   back-forward cache): while this tab has hidden the portal, such a page blanks itself and
//   replaces itself with the neutral page too. Opening the portal afresh (a link, the address
//   bar) ends that.
// Without JavaScript the control is a plain link to /hide, which redirects to the neutral page.
(function () {
  'use strict'
  var KEY = 'portal-hidden-to'
  var root = document.documentElement

  function store (url) {
    try {
      if (url) window.sessionStorage.setItem(KEY, url)
      else window.sessionStorage.removeItem(KEY)
    } catch (e) { /* storage switched off: the control still works */ }
  }

  function stored () {
    try { return window.sessionStorage.getItem(KEY) } catch (e) { return null }
  }

  function leave (url) {
    root.classList.add('portal-hiding')
    document.title = ''
    window.location.replace(url)
  }

  function cameBack () {
    var entries = window.performance && window.performance.getEntriesByType
      ? window.performance.getEntriesByType('navigation') : []
    return entries.length > 0 && entries[0].type === 'back_forward'
  }

  var hiddenTo = stored()
  if (hiddenTo) {
    if (cameBack()) leave(hiddenTo)
    else store(null)
  }

  // Restored from the back-forward cache: the script above does not run again.
  window.addEventListener('pageshow', function (event) {
    var url = stored()
    if (event.persisted && url) leave(url)
  })

  document.addEventListener('click', function (event) {
    var link = event.target instanceof Element && event.target.closest('[data-portal-hide-page]')
    if (!link) return
    event.preventDefault()
    var url = link.getAttribute('data-portal-hide-page') || link.href
    store(url)
    leave(url)
  })
})()
