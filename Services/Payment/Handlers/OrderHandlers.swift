import Contracts
import Foundation
import Persistence

extension Envelope {
    /// The tenant of a staff request, when it names one: orders of other organizations are not found.
    func allows(_ order: Order) -> Bool {
        guard let organizationId, !organizationId.isEmpty else { return true }
        return order.organizationId == organizationId
    }
}

enum PaymentErrors {
    static func notFound(_ what: String = "no such order") -> ConveneError {
        ConveneError(code: "payment.not_found", message: what)
    }
}

/// `payment.create_order` (command from registration): a pending order, once per registration.
struct CreateOrderHandler: MessageHandler {
    let service: String
    let store = OrderStore()
    var messageType: String { Self.scoped(CreateOrder.messageType, to: service) }

    func handle(_ message: Envelope<CreateOrder>, context: HandlerContext) async throws -> Empty {
        let request = message.data
        let tx = context.transaction
        guard request.amount.amountMinor > 0 else {
            throw ConveneError(code: "payment.invalid_amount", message: "an order is for a positive amount (free registrations skip payment)")
        }
        guard Currency.exponent(request.amount.currency) != nil else {
            throw ConveneError(code: "payment.invalid_currency", message: "\(request.amount.currency) is not a supported currency")
        }
        let methods = request.methods.filter { PaymentMethod(rawValue: $0) != nil }
        guard !methods.isEmpty else {
            throw ConveneError(code: "payment.invalid_methods", message: "no known payment method among \(request.methods)")
        }
        for _ in 0..<5 {
            if try await store.pendingOrder(registrationId: request.registrationId, in: tx) != nil {
                context.logger.info("the registration already has an open order; nothing to do")
                return Empty()
            }
            let order = NewOrder.make(request, organizationId: message.organizationId, methods: methods)
            if try await store.insert(order, in: tx) {
                try await Emitter(context).publish(
                    OrderCreated(registrationId: order.registrationId, orderNumber: order.orderNumber, amount: order.amount,
                                 expiresAt: order.expiresAt, payer: order.payer),
                    organizationId: order.organizationId, in: tx)
                context.logger.info("order created", metadata: ["orderNumber": "\(order.orderNumber)"])
                return Empty()
            }
            // Lost to a concurrent command for the registration, or (rarely) a number collision: look again.
        }
        throw ConveneError(code: "payment.order_number_exhausted", message: "no free order number found", retryable: true)
    }
}

enum NewOrder {
    static func make(_ request: CreateOrder, organizationId: String?, methods: [String], now: Date = Date()) -> Order {
        Order(id: UUID(), orderNumber: OrderNumber.make(at: now), registrationId: request.registrationId,
              conferenceId: request.conferenceId, organizationId: organizationId, payer: request.payer,
              description: request.description, amount: request.amount, methods: methods, status: .pending,
              bankReference: BankReference.make(), expiresAt: request.expiresAt, invoice: request.invoice, createdAt: now)
    }
}

extension Order {
    init(id: UUID, orderNumber: String, registrationId: String, conferenceId: String, organizationId: String?, payer: Payer,
         description: String, amount: Money, methods: [String], status: OrderStatus, bankReference: String, expiresAt: Date,
         invoice: InvoiceDetails?, createdAt: Date) {
        self.id = id
        self.orderNumber = orderNumber
        self.registrationId = registrationId
        self.conferenceId = conferenceId
        self.organizationId = organizationId
        self.payer = payer
        self.description = description
        self.amount = amount
        self.methods = methods
        self.status = status
        self.bankReference = bankReference
        self.expiresAt = expiresAt
        self.invoice = invoice
        self.createdAt = createdAt
    }
}

/// `payment.cancel_order` (command from registration): the open order is cancelled and its
/// provider checkouts closed by the timer (retried while a provider is unavailable).
struct CancelOrderHandler: MessageHandler {
    let service: String
    let store = OrderStore()
    var messageType: String { Self.scoped(CancelOrder.messageType, to: service) }

    func handle(_ message: Envelope<CancelOrder>, context: HandlerContext) async throws -> Empty {
        let tx = context.transaction
        guard let order = try await store.pendingOrder(registrationId: message.data.registrationId, locked: true, in: tx) else {
            context.logger.info("no open order to cancel")
            return Empty()
        }
        try await store.setStatus(order.id, .cancelled, in: tx)
        try await store.closeCheckouts(orderId: order.id, in: tx)
        context.logger.info("order cancelled", metadata: ["orderNumber": "\(order.orderNumber)"])
        return Empty()
    }
}

/// `payment.get_order` → `OrderView`: the registration's newest order.
struct GetOrderHandler: MessageHandler {
    let service: String
    let store = OrderStore()
    var messageType: String { Self.scoped(GetOrder.messageType, to: service) }

    func handle(_ message: Envelope<GetOrder>, context: HandlerContext) async throws -> OrderView {
        let tx = context.transaction
        guard let order = try await store.latestOrder(registrationId: message.data.registrationId, in: tx), message.allows(order),
              message.data.accountId == nil || message.data.accountId == order.payer.accountId else {
            throw PaymentErrors.notFound()
        }
        return order.view(refunded: try await store.settledRefundTotal(orderId: order.id, in: tx))
    }
}

/// `payment.waive` → `OrderView`: staff waive the fee; `payment.succeeded` with method `waiver`
/// and the order's amount (no receipt: no money moved).
struct WaiveOrderHandler: MessageHandler {
    let service: String
    let store = OrderStore()
    var messageType: String { Self.scoped(WaiveOrder.messageType, to: service) }

    func handle(_ message: Envelope<WaiveOrder>, context: HandlerContext) async throws -> OrderView {
        let tx = context.transaction
        guard let order = try await store.latestOrder(registrationId: message.data.registrationId, locked: true, in: tx),
              message.allows(order) else { throw PaymentErrors.notFound() }
        if order.status == .waived { return order.view(refunded: 0) }
        guard order.status == .pending else {
            throw ConveneError(code: "payment.order_closed", message: "only a pending order can be waived (it is \(order.status.rawValue))",
                               details: ["status": order.status.rawValue])
        }
        let now = Date()
        _ = try await store.markPaid(order, status: .waived, method: "waiver", providerReference: nil, transactionId: nil,
                                     amountMinor: order.amount.amountMinor, paidAt: now, issueReceipt: false, in: tx)
        try await tx.query("UPDATE orders SET waiver_reason = $2 WHERE id = $1",
                           [order.id, "\(message.data.reason) (by \(message.data.waivedBy))"])
        try await store.closeCheckouts(orderId: order.id, in: tx)
        try await Emitter(context).publish(
            PaymentSucceeded(registrationId: order.registrationId, orderNumber: order.orderNumber, amount: order.amount,
                             method: "waiver", paidAt: now, receiptNumber: nil, payer: order.payer),
            organizationId: order.organizationId, in: tx)
        context.logger.info("order waived", metadata: ["orderNumber": "\(order.orderNumber)", "by": "\(message.data.waivedBy)"])
        return try await store.order(id: order.id, in: tx)!.view(refunded: 0)
    }
}

/// `payment.list_paid_orders` → `PaidOrdersExport`: the organization's paid orders as CSV.
struct ListPaidOrdersHandler: MessageHandler {
    let service: String
    let store = OrderStore()
    var messageType: String { Self.scoped(ListPaidOrders.messageType, to: service) }

    func handle(_ message: Envelope<ListPaidOrders>, context: HandlerContext) async throws -> PaidOrdersExport {
        guard let organizationId = message.organizationId, !organizationId.isEmpty else {
            throw ConveneError(code: "payment.organization_required", message: "the request names no organization")
        }
        let request = message.data
        let orders = try await store.paidOrders(organizationId: organizationId, conferenceId: request.conferenceId,
                                                from: request.from, to: request.to, in: context.transaction)
        return PaidOrdersExport(csv: PaidOrdersCSV.render(orders), count: orders.count)
    }
}

enum PaidOrdersCSV {
    static let header = ["order_number", "receipt_number", "paid_at", "method", "amount", "currency", "payer_name",
                         "payer_email", "invoice_title", "tax_id", "status"]

    static func render(_ orders: [Order]) -> String {
        var csv = CSV.line(header)
        for order in orders {
            let paid = order.paid
            csv += CSV.line([order.orderNumber, order.receiptNumber ?? "", order.paidAt.map(ISO8601.format) ?? "",
                             order.method ?? "", AmountRules.formatMajor(paid.amountMinor, currency: paid.currency), paid.currency,
                             order.payer.name, order.payer.email, order.invoice?.title ?? "", order.invoice?.taxId ?? "",
                             order.status.rawValue])
        }
        return csv
    }
}

/// `payment.get_receipt` → `ReceiptDocument`. Anything the caller may not read answers
/// `payment.not_found`, the same as an order that does not exist.
struct GetReceiptHandler: MessageHandler {
    let service: String
    let store = OrderStore()
    var messageType: String { Self.scoped(GetReceipt.messageType, to: service) }

    func handle(_ message: Envelope<GetReceipt>, context: HandlerContext) async throws -> ReceiptDocument {
        let request = message.data
        let order: Order?
        if let number = request.orderNumber {
            order = try await store.order(number: number, in: context.transaction)
        } else if let registrationId = request.registrationId {
            order = try await store.paidOrder(registrationId: registrationId, locked: false, in: context.transaction)
        } else {
            order = nil
        }
        guard let order, message.allows(order), Self.mayRead(order, request, organizationId: message.organizationId) else {
            throw PaymentErrors.notFound()
        }
        guard let receiptNumber = order.receiptNumber, let paidAt = order.paidAt, let method = order.method else {
            throw ConveneError(code: "payment.no_receipt", message: "the order has no receipt (not paid)")
        }
        let html = ReceiptRenderer.html(ReceiptContent(receiptNumber: receiptNumber, orderNumber: order.orderNumber,
                                                       description: order.description, amount: order.paid, method: method,
                                                       paidAt: paidAt, payer: order.payer, invoice: order.invoice))
        return ReceiptDocument(receiptNumber: receiptNumber, html: html)
    }

    /// Staff of the order's organization, the payer (`accountId`), or the holder of the link.
    static func mayRead(_ order: Order, _ request: GetReceipt, organizationId: String?) -> Bool {
        if let token = request.token { return ReceiptLink.matches(token, stored: order.receiptToken) }
        if let accountId = request.accountId { return accountId == order.payer.accountId }
        return organizationId.map { !$0.isEmpty } ?? false
    }
}
