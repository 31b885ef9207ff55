import Contracts
import Crypto
import Foundation

enum HTML {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}

/// What a receipt shows.
struct ReceiptContent: Sendable {
    var receiptNumber: String
    var orderNumber: String
    var description: String
    var amount: Money
    var method: String
    var paidAt: Date
    var payer: Payer
    var invoice: InvoiceDetails?
}

enum ReceiptRenderer {
    static let methodNames = ["wechat_pay": "WeChat Pay", "alipay": "Alipay", "stripe": "Card (Stripe)",
                              "bank_transfer": "Bank transfer", "waiver": "Waiver"]

    static func html(_ receipt: ReceiptContent) -> String {
        let e = HTML.escape
        var rows: [(String, String)] = [
            ("Receipt number", receipt.receiptNumber), ("Order number", receipt.orderNumber),
            ("Description", receipt.description), ("Amount", receipt.amount.description),
            ("Paid with", methodNames[receipt.method] ?? receipt.method), ("Paid at", ISO8601.format(receipt.paidAt)),
            ("Payer", receipt.payer.name), ("Email", receipt.payer.email),
        ]
        if let invoice = receipt.invoice {
            rows.append(("Invoice title", invoice.title))
            if let taxId = invoice.taxId { rows.append(("Tax id", taxId)) }
            if let address = invoice.address { rows.append(("Address", address)) }
        }
        let body = rows.map { "<tr><th>\(e($0.0))</th><td>\(e($0.1))</td></tr>" }.joined(separator: "\n")
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Receipt \(e(receipt.receiptNumber))</title></head>
            <body><h1>Receipt \(e(receipt.receiptNumber))</h1>
            <table>
            \(body)
            </table></body></html>
            """
    }
}

/// The link in a payment email that opens the receipt without signing in:
/// `<public URL>/v1/receipts/<order number>?token=<token>`. The token is 32 random bytes
/// (base64url) stored with the order; it opens that one receipt and nothing else, as a provider's
/// hosted receipt URL does.
enum ReceiptLink {
    static func makeToken(using generator: inout some RandomNumberGenerator) -> String {
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func makeToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return makeToken(using: &generator)
    }

    /// nil without a public URL (bank transfer only deployments) or a token.
    static func url(publicURL: String, orderNumber: String, token: String?) -> String? {
        guard !publicURL.isEmpty, let token else { return nil }
        return "\(publicURL)/v1/receipts/\(orderNumber)?token=\(token)"
    }

    /// Compares in time independent of where the two differ.
    static func matches(_ presented: String, stored: String?) -> Bool {
        guard let stored else { return false }
        let a = Array(presented.utf8), b = Array(stored.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// The refund of a second payment for an order already paid another way. Its number is derived
/// from the payment it returns, so the same duplicate reported again (another callback, the
/// reconciliation) records no second refund.
enum DuplicatePaymentRefund {
    static let reason = "duplicate_payment"

    static func number(orderNumber: String, method: String, transactionId: String?, paidAt: Date) -> String {
        let identity = "\(orderNumber)|\(method)|\(transactionId ?? ISO8601.format(paidAt))"
        let digest = SHA256.hash(data: Array(identity.utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
        return "DUP-\(digest)"
    }
}
