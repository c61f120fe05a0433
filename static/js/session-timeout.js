// The idle-session warning. The page works without it: every signed-in page says how long an
// idle session lasts, and the server ends it regardless. With it, a GOV.UK notification banner
// appears a few minutes before the deadline, with a "Stay signed in" button (a POST with the CSRF
// token, sent with fetch so that nothing typed on the page is lost).

const root = document.querySelector('[data-portal-session]')

if (root) {
  const warning = root.querySelector('[data-portal-session-warning]')
  const form = root.querySelector('[data-portal-keepalive]')
  const remainingText = root.querySelector('[data-portal-session-remaining]')
  const warnMs = Number(root.dataset.warningMinutes || '5') * 60 * 1000
  // Measured from the page load with the server's own count, so a wrong device clock does not matter.
  let deadline = Date.now() + Number(root.dataset.idleRemaining || '0') * 1000

  const tick = () => {
    const left = deadline - Date.now()
    if (left <= 0) {
      // The server has ended the session: reloading shows the sign-in page.
      window.location.reload()
      return
    }
    if (left <= warnMs) {
      const minutes = Math.max(1, Math.ceil(left / 60000))
      remainingText.textContent = `in ${minutes} minute${minutes === 1 ? '' : 's'}`
      if (warning.hidden) {
        warning.hidden = false
        warning.setAttribute('tabindex', '-1')
        warning.focus()
      }
    } else {
      warning.hidden = true
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    try {
      const response = await fetch(form.action, {
        method: 'POST',
        body: new FormData(form),
        credentials: 'same-origin',
        headers: { Accept: 'application/json' }
      })
      const data = response.ok ? await response.json() : null
      if (!data || !data.signed_in) {
        window.location.reload()
        return
      }
      deadline = Date.now() + Number(data.idle_remaining) * 1000
      warning.hidden = true
    } catch (error) {
      form.submit() // no network answer: fall back to the plain form post
    }
  })

  // Autosave on this page kept the session alive: the server counts activity at most once a
  // minute, so assume one minute less than a full idle period from now.
  const idleMs = Number(root.dataset.idleMinutes || '30') * 60 * 1000
  document.addEventListener('portal:activity', () => {
    deadline = Math.max(deadline, Date.now() + idleMs - 60000)
    tick()
  })

  window.setInterval(tick, 10000)
  tick()
}
