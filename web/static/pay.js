// A payment's page: Stripe's Payment Element on the commune's connected account. The page
// works without it (it says the payment's state, read from the commune's records); this only
// lets the person pay by card. Nothing here decides that a notice is paid: Stripe tells the
// server, and the page, shown again, reads what the server recorded.
(function () {
  'use strict';
  var box = document.getElementById('payment-element');
  var form = document.getElementById('pay-form');
  if (!box || !form || typeof window.Stripe !== 'function') {
    return;
  }
  var stripe = window.Stripe(box.getAttribute('data-key'), {
    stripeAccount: box.getAttribute('data-account')
  });
  var elements = stripe.elements({
    clientSecret: box.getAttribute('data-secret'),
    locale: document.documentElement.lang || 'it'
  });
  elements.create('payment').mount(box);
  form.hidden = false;
  var button = form.querySelector('button');
  var said = document.getElementById('pay-error');
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    button.disabled = true;
    stripe.confirmPayment({
      elements: elements,
      confirmParams: { return_url: form.getAttribute('data-return') }
    }).then(function (r) {
      if (r && r.error) {
        said.textContent = r.error.message || '';
        button.disabled = false;
      }
    });
  });
})();
