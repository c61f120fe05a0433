// The printable copy of a child's file: reveals the "Print this page" button and makes it print.
// Without JavaScript the button stays hidden and the page says how to use the browser's print.
document.body.classList.add('js-enabled')

for (const button of document.querySelectorAll('[data-portal-print]')) {
  button.hidden = false
  button.addEventListener('click', (event) => {
    event.preventDefault()
    window.print()
  })
}
