import Contracts
import Foundation
import Logging
import Persistence
import ServiceLifecycle

/// The service's timers, run beside the consumer (several instances may run them at once):
/// - due orders (`next_check_at`): reconciliation of pending orders with a provider checkout
///   older than `RECONCILE_AFTER` (a missed callback), and expiry (asked once more, then closed);
/// - checkouts to close at their provider (cancelled, expired, or paid another way);
/// - refunds to ask for (or ask about) at their provider;
/// - forgetting handled callbacks after a week.
///
/// Each claims its rows with `FOR UPDATE SKIP LOCKED` and leases them (pushes their due time)
/// in a short transaction, calls the provider with no lock held, then records the outcome and
/// its events (outbox) in another transaction. A crash in between leaves the lease to run out:
/// the work is done again, and every provider call is idempotent (order and refund numbers).
struct PaymentTimers: Service {
    let pool: PGPool
    let settings: PaymentSettings
    let providers: Providers
    let logger: Logger
    let source: String
    let store = OrderStore()
    var ledger: Ledger { Ledger(publicURL: settings.publicURL) }
    static let lease: Duration = .seconds(120)
    static let batch = 20

    var emitter: Emitter { Emitter(source: source) }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await tick()
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("payment timers failed; trying again", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: settings.timerInterval)
            }
        }
    }

    func tick() async throws {
        try await dueOrders()
        try await closingCheckouts()
        try await dueRefunds()
        try await pool.withTransaction { tx in try await store.purgeEvents(olderThan: .seconds(7 * 86_400), in: tx) }
    }

    // MARK: Orders: reconciliation and expiry

    func dueOrders() async throws {
        let orders = try await pool.withTransaction { tx in
            try await store.claimDueOrders(limit: Self.batch, lease: Self.lease, in: tx)
        }
        for order in orders {
            do {
                try await check(order)
            } catch {
                logger.error("order check failed; retried after the lease", metadata: ["orderNumber": "\(order.orderNumber)",
                                                                                       "error": "\(error)"])
            }
        }
    }

    private func check(_ order: Order) async throws {
        let checkouts = try await pool.withTransaction { tx in try await store.checkouts(orderId: order.id, in: tx) }
            .filter { $0.status != "closed" && PaymentMethod(rawValue: $0.method)?.provider != nil }
        // Ask each provider that may have been paid: a missed callback is found here.
        for checkout in checkouts {
            guard let kind = PaymentMethod(rawValue: checkout.method)?.provider, let provider = providers[kind] else { continue }
            if kind == .stripe && checkout.providerReference == nil { continue }
            let state: ProviderPaymentState
            do throws(PaymentProviderError) {
                state = try await provider.query(ProviderPaymentReference(merchantOrderNumber: order.orderNumber,
                                                                          providerReference: checkout.providerReference))
            } catch {
                logger.warning("provider query failed", metadata: ["orderNumber": "\(order.orderNumber)",
                                                                   "provider": "\(kind.rawValue)", "error": "\(error)"])
                continue
            }
            if case .paid(let amount, let currency, let transactionId, let paidAt) = state {
                if try await recordQueried(order, kind: kind, amount: amount, currency: currency, transactionId: transactionId,
                                           paidAt: paidAt) { return }
            }
        }
        let now = Date()
        try await pool.withTransaction { tx in
            guard let current = try await store.order(id: order.id, locked: true, in: tx), current.status == .pending else { return }
            if current.expiresAt <= now {
                try await store.setStatus(current.id, .expired, in: tx)
                try await store.closeCheckouts(orderId: current.id, in: tx)
                try await emitter.publish(OrderExpired(registrationId: current.registrationId, orderNumber: current.orderNumber),
                                          organizationId: current.organizationId, in: tx)
                logger.info("order expired", metadata: ["orderNumber": "\(current.orderNumber)"])
            } else {
                let next = checkouts.isEmpty ? current.expiresAt
                    : min(current.expiresAt, now.addingTimeInterval(settings.reconcileAfter.seconds))
                try await store.scheduleCheck(current.id, at: next, in: tx)
            }
        }
    }

    /// A payment the provider reports: the same path as its callback. false when the answer does
    /// not match the order (left unchanged, logged as an error).
    private func recordQueried(_ order: Order, kind: PaymentProviderKind, amount: Int, currency: String, transactionId: String,
                               paidAt: Date?) async throws -> Bool {
        try await pool.withTransaction { tx in
            guard let current = try await store.order(id: order.id, locked: true, in: tx) else { return false }
            guard AmountRules.matches(paid: amount, currency: currency, order: current.amount) else {
                logger.error("the provider reports a payment that does not match the order; order left unchanged", metadata: [
                    "code": "payment.amount_mismatch", "orderNumber": "\(current.orderNumber)", "provider": "\(kind.rawValue)",
                ])
                return false
            }
            let outcome = try await ledger.recordPayment(current, method: kind.rawValue, providerReference: nil,
                                                         transactionId: transactionId, amountMinor: Int64(amount),
                                                         paidAt: paidAt ?? Date(), emitter: emitter, logger: logger, in: tx)
            logger.info("payment found by asking the provider", metadata: ["orderNumber": "\(current.orderNumber)",
                                                                           "provider": "\(kind.rawValue)", "outcome": "\(outcome)"])
            return true
        }
    }

    // MARK: Checkouts to close

    func closingCheckouts() async throws {
        let claimed = try await pool.withTransaction { tx in
            try await store.claimClosingCheckouts(limit: Self.batch, lease: Self.lease, in: tx)
        }
        for (checkout, order) in claimed {
            guard let kind = PaymentMethod(rawValue: checkout.method)?.provider, let provider = providers[kind],
                  kind != .stripe || checkout.providerReference != nil else {
                try await pool.withTransaction { tx in try await store.checkoutClosed(checkout.id, in: tx) }
                continue
            }
            let reference = ProviderPaymentReference(merchantOrderNumber: order.orderNumber,
                                                     providerReference: checkout.providerReference)
            do throws(PaymentProviderError) {
                try await provider.close(reference)
                try? await pool.withTransaction { tx in try await store.checkoutClosed(checkout.id, in: tx) }
            } catch where error.isTransient {
                let delay = settings.retryDelay(afterAttempt: checkout.attempts + 1)
                logger.warning("closing a checkout failed; retrying later", metadata: [
                    "orderNumber": "\(order.orderNumber)", "provider": "\(kind.rawValue)", "error": "\(error)"])
                try? await pool.withTransaction { tx in
                    try await store.retryCheckoutClose(checkout.id, after: delay, error: error.description, in: tx)
                }
            } catch {
                // Refused: unknown there (never scanned), already closed, or paid. Paid money is recorded.
                if case .paid(let amount, let currency, let transactionId, let paidAt) = try? await provider.query(reference) {
                    _ = try? await recordQueried(order, kind: kind, amount: amount, currency: currency,
                                                 transactionId: transactionId, paidAt: paidAt)
                }
                try? await pool.withTransaction { tx in
                    try await store.checkoutClosed(checkout.id, in: tx)
                    try await tx.query("UPDATE checkouts SET last_error = $2 WHERE id = $1", [checkout.id, error.description])
                }
            }
        }
    }

    // MARK: Refunds

    func dueRefunds() async throws {
        let refunds = try await pool.withTransaction { tx in
            try await store.claimDueRefunds(limit: Self.batch, lease: Self.lease, in: tx)
        }
        for refund in refunds {
            do {
                try await process(refund)
            } catch {
                logger.error("refund step failed; retried after the lease", metadata: ["refundNumber": "\(refund.refundNumber)",
                                                                                       "error": "\(error)"])
            }
        }
    }

    private func process(_ refund: Refund) async throws {
        // A duplicate payment's refund returns that payment, at its own provider.
        guard let order = try await pool.withTransaction({ tx in try await store.order(id: refund.orderId, in: tx) }),
              let kind = (refund.method ?? order.method).flatMap({ PaymentMethod(rawValue: $0)?.provider }),
              let provider = providers[kind] else {
            logger.error("a refund whose order was not paid through a configured provider waits",
                         metadata: ["refundNumber": "\(refund.refundNumber)"])
            return
        }
        let request = ProviderRefundRequest(merchantOrderNumber: order.orderNumber,
                                            providerPaymentReference: refund.kind == .duplicatePayment
                                                ? refund.providerTransactionId : order.providerTransactionId,
                                            refundNumber: refund.refundNumber, amount: Int(refund.amount.amountMinor),
                                            total: Int(refund.paidAmountMinor ?? order.paid.amountMinor),
                                            currency: refund.amount.currency,
                                            reason: refund.reason)
        let attempt = refund.attempts + 1
        let result: Result<ProviderRefundState, PaymentProviderError>
        do throws(PaymentProviderError) {
            result = .success(try await provider.refund(request))
        } catch {
            result = .failure(error)
        }
        try await pool.withTransaction { tx in
            guard let current = try await store.refund(number: refund.refundNumber, locked: true, in: tx),
                  current.status == "pending" || current.status == "processing",
                  let order = try await store.order(id: order.id, locked: true, in: tx) else { return }
            switch result {
            case .success(.succeeded(let id)):
                try await ledger.settleRefund(current, order: order, providerRefundId: id, emitter: emitter, in: tx)
                logger.info("refund succeeded", metadata: ["refundNumber": "\(refund.refundNumber)"])
            case .success(.pending(let id)):
                try await store.updateRefund(refund.refundNumber, status: "processing", providerRefundId: id,
                                             nextAttempt: settings.retryDelay(afterAttempt: attempt), error: nil, in: tx)
                logger.info("refund accepted; waiting for the provider", metadata: ["refundNumber": "\(refund.refundNumber)"])
            case .success(.failed(_, let reason)):
                try await ledger.failRefund(current, order: order, error: reason, emitter: emitter, in: tx)
                logger.error("refund failed at the provider", metadata: ["refundNumber": "\(refund.refundNumber)", "reason": "\(reason)"])
            case .failure(let error) where error.isTransient:
                try await store.updateRefund(refund.refundNumber, status: current.status, providerRefundId: nil,
                                             nextAttempt: settings.retryDelay(afterAttempt: attempt), error: error.description, in: tx)
                logger.warning("refund call failed; retrying later", metadata: ["refundNumber": "\(refund.refundNumber)",
                                                                                 "error": "\(error)"])
            case .failure(let error):
                try await ledger.failRefund(current, order: order, error: error.code, emitter: emitter, in: tx)
                logger.error("refund refused by the provider", metadata: ["refundNumber": "\(refund.refundNumber)",
                                                                          "error": "\(error)"])
            }
        }
    }
}
