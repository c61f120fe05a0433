// Saves the concern form as it is typed: about 5 seconds after typing stops, and whenever the
// page is hidden (switching app, locking the phone, closing the tab). The form works without
// this file ("Save and continue later" does the same as a plain post). Loaded as a module from
// templates/concerns/new.html: no inline script (CSP script-src 'self').
//
// The server answers JSON: {saved, signed_in, saved_at, csrf_token, message}. Each answer
// carries a fresh CSRF token, which replaces the page's, so a page left open for hours can still
// be sent. If the session has ended, the server has still kept what was posted (unless the
// session was signed out on purpose) and says so; the message tells the person to sign in.

const DELAY_MS = 5000

const form = document.querySelector('form[data-autosave]')

if (form) {
  const url = form.dataset.autosaveUrl
  const status = form.querySelector('[data-autosave-status]')
  const tokenInput = form.querySelector('input[name="csrf_token"]')
  let timer = null
  let dirty = false
  let inFlight = false
  let sending = false // the form itself is being submitted: stop saving

  const show = (text) => {
    if (status && text) status.textContent = text
  }

  const save = async ({ leaving = false } = {}) => {
    if (!dirty || sending) return
    if (inFlight && !leaving) {
      // One save at a time; try again shortly.
      schedule()
      return
    }
    window.clearTimeout(timer)
    dirty = false
    inFlight = true
    try {
      const response = await fetch(url, {
        method: 'POST',
        body: new FormData(form),
        credentials: 'same-origin',
        // keepalive lets the save finish while the page is being hidden or closed.
        keepalive: leaving,
        headers: { 'X-Requested-With': 'XMLHttpRequest', Accept: 'application/json' }
      })
      let data = null
      try {
        data = await response.json()
      } catch (error) {
        data = null
      }
      if (data && data.csrf_token && tokenInput) tokenInput.value = data.csrf_token
      if (data && data.saved && data.signed_in) {
        show(data.message || `Saved at ${data.saved_at}`)
        document.dispatchEvent(new CustomEvent('portal:activity'))
      } else if (data && data.signed_in === false) {
        show(data.message || 'You have been signed out. Sign in to carry on.')
        if (!data.saved) dirty = true
      } else {
        dirty = true
        show('Not saved yet: check your connection. We will keep trying.')
        schedule()
      }
    } catch (error) {
      // Offline (a corridor with no signal): keep the text on the page and try again later.
      dirty = true
      show('Not saved yet: check your connection. We will keep trying.')
      schedule()
    } finally {
      inFlight = false
    }
  }

  function schedule () {
    window.clearTimeout(timer)
    timer = window.setTimeout(() => save(), DELAY_MS)
  }

  const changed = () => {
    dirty = true
    schedule()
  }

  form.addEventListener('input', changed)
  form.addEventListener('change', changed)
  form.addEventListener('submit', () => {
    sending = true
    window.clearTimeout(timer)
  })
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') save({ leaving: true })
  })
  window.addEventListener('pagehide', () => save({ leaving: true }))
  window.addEventListener('online', () => save())
}
