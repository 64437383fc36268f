// The dev page's only script: plain DOM, no build step.
const cart = new Map();  // sku -> quantity
let termsVersion = null;  // the shop's current terms, which the checkout accepts
const money = (cents, currency) => new Intl.NumberFormat("de-DE", {style: "currency", currency}).format(cents / 100);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  Object.entries(attrs).forEach(([k, v]) => (k === "class" ? (node.className = v) : node.setAttribute(k, v)));
  children.flat().forEach((c) => node.append(c instanceof Node ? c : document.createTextNode(String(c))));
  return node;
};

async function loadCatalog() {
  const products = await (await fetch("/dev/catalog")).json();
  const body = document.querySelector("#products tbody");
  body.replaceChildren(...products.map((p) => {
    const add = el("button", {"data-sku": p.sku, class: "add"}, "Add to cart");
    add.onclick = () => { cart.set(p.sku, (cart.get(p.sku) || 0) + 1); renderCart(); };
    return el("tr", {}, el("td", {}, p.sku), el("td", {}, p.name), el("td", {}, money(p.price, p.currency)),
      el("td", {class: "available"}, p.available), el("td", {}, p.reserved), el("td", {}, add));
  }));
}

function renderCart() {
  const list = document.getElementById("cart-lines");
  if (!cart.size) { list.replaceChildren(el("li", {class: "muted"}, "The cart is empty.")); return; }
  list.replaceChildren(...[...cart].map(([sku, q]) => el("li", {}, `${q} × ${sku}`)));
}

async function placeOrder(event) {
  event.preventDefault();
  const f = new FormData(event.target);
  const address = {name: f.get("name"), line1: f.get("line1"), postal_code: f.get("postal_code"),
                   city: f.get("city"), country: f.get("country")};
  const body = {lines: [...cart].map(([sku, quantity]) => ({sku, quantity})),
                customer: {email: f.get("email"), name: f.get("name")}, shipping_address: address,
                payment_method: f.get("payment_method"), locale: f.get("locale")};
  if (f.get("terms")) body.terms_accepted = {version: termsVersion};
  const response = await fetch("/api/orders", {method: "POST", body: JSON.stringify(body),
    headers: {"Content-Type": "application/json", "Idempotency-Key": crypto.randomUUID()}});
  const result = await response.json();
  const out = document.getElementById("checkout-result");
  if (!response.ok) { out.replaceChildren(el("p", {class: "error"}, JSON.stringify(result.error, null, 2))); return; }
  cart.clear(); renderCart();
  const payment = result.payment || {};
  const next = payment.redirect_url
    ? el("a", {href: payment.redirect_url, id: "pay-link"}, "Pay now (fake provider)")
    : el("pre", {}, JSON.stringify(payment, null, 2));
  out.replaceChildren(el("p", {}, `Order ${result.number} placed: ${money(result.totals.total, result.totals.currency)}, `,
    el("span", {class: "status"}, result.status), " "), next);
  loadCatalog(); loadOrders();
}

async function loadTerms() {
  termsVersion = (await (await fetch("/dev/terms")).json()).version;
  document.getElementById("terms-version").textContent = termsVersion;
}

async function loadOrders() {
  const orders = await (await fetch("/dev/orders")).json();
  const box = document.getElementById("order-list");
  if (!orders.length) return;
  box.replaceChildren(...orders.map((o) => el("div", {class: "order", "data-number": o.number},
    el("strong", {}, o.number), " ", el("span", {class: `status ${o.status}`}, o.status),
    ` ${o.payment_status} · ${o.fulfilment_status} · ${o.payment_method} · ${money(o.total, o.currency)} · ${o.email}`,
    el("ol", {}, o.history.map((h) => el("li", {class: h.visibility}, `${h.at.slice(0, 19)} ${h.event} (${h.actor}): ${h.message}`))),
    el("p", {class: "documents"}, ...(o.documents || []).map((d) => d.archived
      ? el("a", {href: d.url, target: "_blank", class: `document ${d.kind}`},
        `${d.kind === "invoice" ? "Invoice" : "Credit note"} ${d.number} (PDF) `)
      : el("span", {class: `document ${d.kind}`},
        `${d.kind === "invoice" ? "Invoice" : "Credit note"} ${d.number} (PDF being archived…) `))))));
}

async function loadEmails() {
  const emails = await (await fetch("/dev/emails")).json();
  const body = document.querySelector("#email-list tbody");
  body.replaceChildren(...emails.map((m) => {
    const view = el("button", {}, "View");
    view.onclick = () => (document.getElementById("email-preview").src = `/dev/emails/${m.id}`);
    return el("tr", {class: "email"}, el("td", {}, m.to), el("td", {class: "subject"}, m.subject), el("td", {}, m.locale), el("td", {}, view));
  }));
}

document.getElementById("checkout-form").addEventListener("submit", placeOrder);
loadTerms(); loadCatalog(); loadOrders(); loadEmails();
setInterval(() => { loadOrders(); loadEmails(); }, 2000);
