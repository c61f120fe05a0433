// Progressive enhancement for the upload form (templates/children/_upload_form.html): a file over
// the limit is named as too large as soon as it is chosen, and the form is not sent, so nothing
// typed is at risk and no time is spent sending it. Without this script the server answers the
// same way (portal/children/views.py), with what was typed kept.

// As size_text in portal/attachments.py: '15 MB', '2.5 MB', '512 KB'.
function sizeText (size) {
  const MB = 1024 * 1024
  if (size >= MB) {
    const value = size / MB
    return (Number.isInteger(value) || value >= 10 ? Math.round(value) : value.toFixed(1)) + ' MB'
  }
  if (size >= 1024) return Math.floor(size / 1024) + ' KB'
  return size + ' bytes'
}

function tooLarge (input) {
  const file = input.files && input.files[0]
  const max = Number(input.dataset.maxBytes)
  if (!file || !max || file.size <= max) return null
  const photo = file.type.startsWith('image/')
  // As too_large_message: "over 10 MB" for a file just over the limit, never "10 MB".
  const shown = file.size >= max * 1.05 ? sizeText(file.size) : 'over ' + sizeText(max)
  const advice = photo ? input.dataset.tooLargePhoto : input.dataset.tooLargeFile
  return `The ${photo ? 'photo' : 'file'} is ${shown}. ${advice}`
}

function showError (input, message) {
  const group = input.closest('.govuk-form-group')
  let error = document.getElementById(input.id + '-size-error')
  if (!message) {
    if (error) {
      error.remove()
      input.classList.remove('govuk-file-upload--error')
      const others = group && group.querySelector('.govuk-error-message')
      if (group && !others) group.classList.remove('govuk-form-group--error')
      input.setAttribute('aria-describedby', (input.getAttribute('aria-describedby') || '')
        .split(' ').filter((id) => id && id !== error.id).join(' '))
    }
    return
  }
  if (!error) {
    error = document.createElement('p')
    error.id = input.id + '-size-error'
    error.className = 'govuk-error-message'
    input.parentNode.insertBefore(error, input)
    const described = (input.getAttribute('aria-describedby') || '').split(' ').filter(Boolean)
    input.setAttribute('aria-describedby', [...described, error.id].join(' '))
  }
  error.textContent = ''
  const hidden = document.createElement('span')
  hidden.className = 'govuk-visually-hidden'
  hidden.textContent = 'Error: '
  error.append(hidden, message)
  input.classList.add('govuk-file-upload--error')
  if (group) group.classList.add('govuk-form-group--error')
}

for (const form of document.querySelectorAll('form[data-portal-upload]')) {
  const input = form.querySelector('input[type="file"][data-max-bytes]')
  if (!input) continue
  input.addEventListener('change', () => showError(input, tooLarge(input)))
  form.addEventListener('submit', (event) => {
    const message = tooLarge(input)
    showError(input, message)
    if (message) {
      event.preventDefault()
      input.focus()
    }
  })
}
