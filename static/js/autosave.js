// Saves a form as it is typed: about 5 seconds after typing stops, at least once a minute while
// typing goes on, and whenever the page is hidden (switching app, locking the phone, closing the
// tab). Each save counts as activity, so typing keeps the session alive. The forms work without
// this file. Loaded as a module (no inline script: CSP script-src 'self') by
// templates/concerns/new.html (`form[data-autosave]`, posting to its data-autosave-url) and by
// templates/_partials/draft.html, included in every other form that takes text
// (`[data-portal-draft]`): those post to the form's own address with the X-Portal-Autosave header.
//
// The server answers JSON: {saved, signed_in, saved_at, csrf_token, message}. Each answer
// carries a fresh CSRF token, which replaces the page's, so a page left open for hours can still
// be sent. If the session has ended, the server has still kept what was posted (unless the
// session was signed out on purpose) and says so; the message tells the person to sign in.

const DELAY_MS = 5000
const MAX_WAIT_MS = 60000

const forms = new Set(document.querySelectorAll('form[data-autosave]'))
document.querySelectorAll('[data-portal-draft]').forEach((input) => {
  if (input.form) forms.add(input.form)
})

forms.forEach((form) => {
  if (form.dataset.autosaveAttached) return
  form.dataset.autosaveAttached = 'yes'
  // The server's draft (saved as it is typed and when the page is hidden) is the one place that
  // keeps text not yet sent, so the browser need not keep it too: Back after sending fetched the
  // form afresh and the browser put the text back, which looked like a concern not sent yet (a
  // walk). Set here, not in the page, so a browser without JavaScript, which has no draft saved
  // as it types, still puts back what was typed.
  form.setAttribute('autocomplete', 'off')
  const url = form.dataset.autosaveUrl || form.action
  const generic = !form.dataset.autosaveUrl
  const status = form.querySelector('[data-autosave-status]')
  const tokenInput = form.querySelector('input[name="csrf_token"]')
  // What the form held when last saved (or loaded): a save is sent only when this changes, so
  // focus moving (the idle warning taking it fires 'change') never counts as typing.
  const snapshot = () => {
    const parts = []
    new FormData(form).forEach((value, name) => {
      if (name !== 'csrf_token' && typeof value === 'string') parts.push([name, value])
    })
    return JSON.stringify(parts)
  }
  let lastSaved = snapshot()
  let timer = null
  let dirty = false
  let dirtySince = 0
  let inFlight = false
  let sending = false // the form itself is being submitted: stop saving

  const show = (text) => {
    if (status && text) status.textContent = text
  }

  const save = async ({ leaving = false } = {}) => {
    if (!dirty || sending) return
    const current = snapshot()
    if (current === lastSaved) {
      dirty = false
      dirtySince = 0
      return
    }
    if (inFlight && !leaving) {
      // One save at a time; try again shortly.
      schedule()
      return
    }
    window.clearTimeout(timer)
    dirty = false
    dirtySince = 0
    inFlight = true
    try {
      const response = await fetch(url, {
        method: 'POST',
        body: new FormData(form),
        credentials: 'same-origin',
        // keepalive lets the save finish while the page is being hidden or closed.
        keepalive: leaving,
        headers: Object.assign(
          { 'X-Requested-With': 'XMLHttpRequest', Accept: 'application/json' },
          generic ? { 'X-Portal-Autosave': '1' } : {}
        )
      })
      let data = null
      try {
        data = await response.json()
      } catch (error) {
        data = null
      }
      if (data && data.csrf_token && tokenInput) tokenInput.value = data.csrf_token
      if (data && data.saved) lastSaved = current
      if (data && data.saved && data.signed_in) {
        // A DSL's form keeps a draft, not the record: "Saved at" read as saved (a walk).
        show(data.message || (generic
          ? `Draft kept at ${data.saved_at}: not saved to the record until you press the button`
          : `Saved at ${data.saved_at}`))
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
    // Typing that never pauses is still saved (and still counts as activity) once a minute.
    const waited = dirtySince ? Date.now() - dirtySince : 0
    timer = window.setTimeout(() => save(), Math.max(0, Math.min(DELAY_MS, MAX_WAIT_MS - waited)))
  }

  const changed = () => {
    if (!dirty) dirtySince = Date.now()
    dirty = true
    schedule()
  }

  form.addEventListener('input', changed)
  form.addEventListener('change', changed)
  form.addEventListener('submit', () => {
    sending = true
    window.clearTimeout(timer)
  })
  // "Discard what you typed" (templates/_partials/flash.html): saving as the page goes would
  // put back the draft just discarded.
  document.addEventListener('submit', (event) => {
    if (event.target.matches('[data-discards-draft]')) {
      sending = true
      window.clearTimeout(timer)
    }
  })
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') save({ leaving: true })
  })
  window.addEventListener('pagehide', () => save({ leaving: true }))
  window.addEventListener('online', () => save())
})
