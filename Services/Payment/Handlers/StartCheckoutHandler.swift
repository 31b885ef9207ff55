import Contracts
import Foundation
import Persistence

/// `payment.start_checkout` → `CheckoutView`.
///
/// Crash safety: the provider is called outside any transaction that holds the order's lock.
/// 1. A short transaction (on its own pool) locks the order, checks it and records the intent:
///    a `creating` checkout row. From then on the timer knows a provider order may exist: it will
///    ask the provider about it (reconciliation) and close it when the order ends.
/// 2. The provider is called. Every create is idempotent on our order number (WeChat Pay and
///    Alipay: the same `out_trade_no` and body give the same QR code; Stripe: the
///    `Idempotency-Key` `convene-checkout-<order>`, with the session's expiry derived from the
///    intent's creation time so a retry sends the very same parameters).
/// 3. A second short transaction records the result (`ready`).
/// A crash between 1 and 3, or a failed call, leaves a `creating` row: the participant's next
/// request calls the provider again and gets the same checkout; a second provider order is never made.
struct StartCheckoutHandler: MessageHandler {
    let service: String
    let settings: PaymentSettings
    let providers: Providers
    /// Connections of their own, so a handler never waits for the pool its own transaction holds.
    let sidePool: PGPool
    let store = OrderStore()
    var messageType: String { Self.scoped(StartCheckout.messageType, to: service) }
    var batchable: Bool { false }

    func handle(_ message: Envelope<StartCheckout>, context: HandlerContext) async throws -> CheckoutView {
        let request = message.data
        let now = Date()
        let reconcileAfter = settings.reconcileAfter
        let (order, checkout) = try await sidePool.withTransaction { tx -> (Order, Checkout) in
            guard let order = try await store.latestOrder(registrationId: request.registrationId, locked: true, in: tx),
                  order.payer.accountId == request.accountId, message.allows(order) else {
                throw PaymentErrors.notFound()
            }
            guard order.status == .pending else {
                throw ConveneError(code: "payment.order_closed", message: "the order is \(order.status.rawValue)",
                                   details: ["status": order.status.rawValue])
            }
            guard order.expiresAt > now else {
                throw ConveneError(code: "payment.order_expired", message: "the order expired at \(ISO8601.format(order.expiresAt))")
            }
            try checkMethod(request.method, for: order)
            if let existing = try await store.checkout(orderId: order.id, method: request.method, in: tx) {
                guard existing.status == "creating" || existing.status == "ready" else {
                    throw ConveneError(code: "payment.method_unavailable", message: "this method's checkout was closed")
                }
                return (order, existing)
            }
            let status = request.method == PaymentMethod.bankTransfer.rawValue ? "ready" : "creating"
            let checkout = try await store.insertCheckoutIntent(orderId: order.id, method: request.method, status: status, in: tx)
            if status == "creating" {
                try await tx.query("UPDATE orders SET next_check_at = least(next_check_at, now() + make_interval(secs => $2)) WHERE id = $1",
                                   [order.id, reconcileAfter.seconds])
            }
            return (order, checkout)
        }
        var view = CheckoutView(orderNumber: order.orderNumber, method: request.method, amount: order.amount,
                                expiresAt: order.expiresAt)
        if request.method == PaymentMethod.bankTransfer.rawValue, let bank = settings.bank {
            view.bankTransfer = BankTransferInstructions(accountName: bank.accountName, bankName: bank.bankName,
                                                         accountNumber: bank.accountNumber, reference: order.bankReference)
            return view
        }
        if checkout.status == "ready" {
            view.qrCode = checkout.qrCode
            view.redirectUrl = checkout.redirectURL
            return view
        }
        guard let kind = PaymentMethod(rawValue: request.method)?.provider, let provider = providers[kind] else {
            throw ConveneError(code: "payment.method_unavailable", message: "\(request.method) is not configured")
        }
        let created: ProviderCheckout
        do throws(PaymentProviderError) {
            created = try await provider.createCheckout(CheckoutRequest(
                merchantOrderNumber: order.orderNumber, amount: Int(order.amount.amountMinor), currency: order.amount.currency,
                description: order.description, expiresAt: Self.providerExpiry(kind, order: order, intentAt: checkout.createdAt)))
        } catch {
            context.logger.warning("provider checkout failed", metadata: ["orderNumber": "\(order.orderNumber)",
                                                                         "provider": "\(kind.rawValue)", "error": "\(error)"])
            try await sidePool.withTransaction { tx in
                try await store.checkoutFailed(checkout.id, error: error.description, in: tx)
            }
            throw ConveneError(code: error.isTransient ? "payment.provider_unavailable" : "payment.checkout_failed",
                               message: error.isTransient ? "the payment provider is unavailable; try again in a moment"
                                   : "the payment provider refused the checkout",
                               details: ["provider": kind.rawValue])
        }
        try await sidePool.withTransaction { tx in
            try await store.checkoutReady(checkout.id, qrCode: created.qrCode, redirectURL: created.redirectURL,
                                          providerReference: created.providerReference, expiresAt: created.expiresAt, in: tx)
        }
        context.logger.info("checkout ready", metadata: ["orderNumber": "\(order.orderNumber)", "method": "\(request.method)"])
        view.qrCode = created.qrCode
        view.redirectUrl = created.redirectURL
        return view
    }

    private func checkMethod(_ method: String, for order: Order) throws {
        guard let parsed = PaymentMethod(rawValue: method), order.methods.contains(method),
              settings.configuredMethods.contains(method) else {
            throw ConveneError(code: "payment.method_unavailable", message: "\(method) is not available for this order",
                               details: ["methods": order.methods.filter(settings.configuredMethods.contains).joined(separator: ",")])
        }
        if parsed == .wechatPay || parsed == .alipay, order.amount.currency != "CNY" {
            throw ConveneError(code: "payment.method_unavailable", message: "\(method) takes CNY only")
        }
    }

    /// Stripe sessions last 30 minutes to 24 hours: the order's expiry clamped to that window,
    /// counted from when the intent was recorded so that a retry sends the same value.
    static func providerExpiry(_ kind: PaymentProviderKind, order: Order, intentAt: Date) -> Date? {
        guard kind == .stripe else { return order.expiresAt }
        let earliest = intentAt.addingTimeInterval(31 * 60)
        let latest = intentAt.addingTimeInterval(23 * 3600)
        return Date(timeIntervalSince1970: min(max(order.expiresAt, earliest), latest).timeIntervalSince1970.rounded(.down))
    }
}

/// The configured provider adapters.
struct Providers: Sendable {
    let all: [PaymentProviderKind: any PaymentProvider]
    subscript(_ kind: PaymentProviderKind) -> (any PaymentProvider)? { all[kind] }
}
