import Contracts
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
