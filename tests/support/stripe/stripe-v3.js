// A stand-in for Stripe.js v3, served by the test server at /v3/: only what the product's
// web/static/pay.js calls, as https://docs.stripe.com/js documents it.
//
//   Stripe(publishableKey, { stripeAccount })       https://docs.stripe.com/js/initializing
//   stripe.elements({ clientSecret, locale })       https://docs.stripe.com/js/elements_object/create
//   elements.create('payment').mount(el)            https://docs.stripe.com/js/elements_object/create_payment_element
//   stripe.confirmPayment({ elements, confirmParams: { return_url } })
//                                                   https://docs.stripe.com/js/payment_intents/confirm_payment
//
// Real Stripe.js draws the card fields in its own frame and sends them to Stripe's API from
// there; here they are drawn in the page and sent from it, to the same endpoint with the same
// parameters (the publishable key, the connected account, the intent's client secret). Success
// sends the browser to return_url with payment_intent, payment_intent_client_secret and
// redirect_status, as Stripe does; a decline resolves with { error } and leaves the page.
(function () {
  'use strict';
  var api = (document.currentScript.src.match(/^https?:\/\/[^/]+/) || [''])[0];

  function field(box, id, label, autocomplete) {
    var wrap = document.createElement('div');
    var l = document.createElement('label');
    l.htmlFor = id;
    l.textContent = label;
    var input = document.createElement('input');
    input.id = id;
    input.type = 'text';
    input.inputMode = 'numeric';
    input.autocomplete = autocomplete;
    wrap.appendChild(l);
    wrap.appendChild(input);
    box.appendChild(wrap);
    return input;
  }

  function PaymentElement() {
    this.inputs = null;
  }
  PaymentElement.prototype.mount = function (el) {
    var box = typeof el === 'string' ? document.querySelector(el) : el;
    var it = (document.documentElement.lang || 'it') === 'it';
    this.inputs = {
      number: field(box, 'stripe-card-number', it ? 'Numero della carta' : 'Card number', 'cc-number'),
      expiry: field(box, 'stripe-card-expiry', it ? 'Scadenza (MM / AA)' : 'Expiry (MM / YY)', 'cc-exp'),
      cvc: field(box, 'stripe-card-cvc', it ? 'Codice di sicurezza' : 'Security code', 'cc-csc'),
    };
  };

  function form(params) {
    return Object.keys(params)
      .map(function (k) {
        return encodeURIComponent(k) + '=' + encodeURIComponent(params[k]);
      })
      .join('&');
  }

  window.Stripe = function (key, options) {
    var account = (options && options.stripeAccount) || '';
    return {
      elements: function (opts) {
        return {
          clientSecret: opts && opts.clientSecret,
          element: null,
          create: function (type) {
            if (type !== 'payment') {
              throw new Error('this stand-in only draws the Payment Element');
            }
            this.element = new PaymentElement();
            return this.element;
          },
        };
      },
      confirmPayment: function (p) {
        var elements = p.elements;
        var secret = elements.clientSecret || '';
        var intent = secret.split('_secret_')[0];
        var inputs = elements.element && elements.element.inputs;
        var exp = inputs ? inputs.expiry.value.split('/') : [];
        var returnUrl = (p.confirmParams && p.confirmParams.return_url) || '';
        var body = form({
          key: key,
          _stripe_account: account,
          client_secret: secret,
          return_url: returnUrl,
          'payment_method_data[type]': 'card',
          'payment_method_data[card][number]': inputs ? inputs.number.value : '',
          'payment_method_data[card][exp_month]': (exp[0] || '').trim(),
          'payment_method_data[card][exp_year]': (exp[1] || '').trim(),
          'payment_method_data[card][cvc]': inputs ? inputs.cvc.value : '',
        });
        return fetch(api + '/v1/payment_intents/' + encodeURIComponent(intent) + '/confirm', {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: body,
        })
          .then(function (r) {
            return r.json();
          })
          .then(function (b) {
            if (b.error) {
              return { error: b.error };
            }
            var sep = returnUrl.indexOf('?') < 0 ? '?' : '&';
            window.location.assign(
              returnUrl + sep + form({
                payment_intent: b.id,
                payment_intent_client_secret: secret,
                // Stripe's documented values: succeeded, processing, failed.
                redirect_status:
                  b.status === 'succeeded' || b.status === 'processing' ? b.status : 'failed',
              }),
            );
            return new Promise(function () {});
          })
          .catch(function (e) {
            return { error: { type: 'api_connection_error', message: String(e) } };
          });
      },
    };
  };
})();
