import Contracts
import Foundation
@testable import Notification
import Testing

/// The messages registrants and payers get, rendered from events as the services send them,
/// through the shipped rules and the real renderer, as a delivery renders them.
@Suite("Registration and payment messages")
struct RegistrationTemplateTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Services/Notification").standardized.path
    let library: TemplateLibrary
    let book: RuleBook

    init() throws {
        library = try TemplateLibrary(directory: Self.root + "/Templates")
        book = try RuleBook(file: Self.root + "/Rules/rules.json", templates: library)
    }

    static let title = "2026 全国计算语言学学术会议 <b>&"
    static let link = "https://convene.example/registrations/5c0e8a3e?tab=status&from=mail"

    static func notice(_ status: String, comment: String? = nil, offerExpiresAt: Date? = nil,
                       price: Money? = nil) throws -> RegistrationNotice {
        RegistrationNotice(
            registrationId: "5c0e8a3e-6b1f-4c55-9d1e-2f7a8b9c0d11", conferenceId: "a1b2c3d4-0000-4000-8000-000000000001",
            conferenceTitle: title, conferenceStartLocal: "2026-12-01 09:00", timeZone: "Asia/Shanghai", category: "student",
            status: status, registrant: Payer(accountId: "acc-17", email: "wang.xm@example.edu.cn", name: "王小明", locale: "zh-CN"),
            price: try price ?? Money(amountMinor: 128_000, currency: "CNY"), comment: comment, offerExpiresAt: offerExpiresAt,
            link: link)
    }

    static let payer = Payer(accountId: "acc-17", email: "wang.xm@example.edu.cn", name: "王小明 <b>&", locale: "zh-CN")

    static func payment(method: String = "wechat_pay", receiptNumber: String? = "R-2026-000123",
                        receiptUrl: String? = nil) throws -> PaymentSucceeded {
        PaymentSucceeded(registrationId: "5c0e8a3e-6b1f-4c55-9d1e-2f7a8b9c0d11", orderNumber: "CV20261102000045",
                         amount: try Money(amountMinor: 128_000, currency: "CNY"), method: method,
                         paidAt: ISO8601.parse("2026-11-02T06:30:00Z")!, receiptNumber: receiptNumber, payer: payer,
                         receiptUrl: receiptUrl)
    }

    static func refund(reason: String) throws -> RefundSettled {
        RefundSettled(registrationId: "5c0e8a3e-6b1f-4c55-9d1e-2f7a8b9c0d11", refundNumber: "RF20261105000007",
                      amount: try Money(amountMinor: 1250, currency: "USD"), reason: reason, payer: payer)
    }

    /// What the event's rule sends the person it addresses, in `locale`: the event's data as it
    /// travels (JSON), with the recipient's name added, as `DeliveryChannels` renders it.
    func render(_ type: String, _ event: some Encodable, locale: String) throws -> RenderedMessage {
        let rules = book.rules(for: type)
        try #require(rules.count == 1, "one rule for \(type)")
        let rule = rules[0]
        let json = try ConveneJSON.decode(JSONValue.self, from: ConveneJSON.encode(event))
        let recipient = try #require(RuleBook.recipients(in: json, at: rule.audience).first, "\(rule.id) finds its recipient")
        guard case .object(let object) = json else { throw RuleBook.Invalid(description: "event data is an object") }
        var data = object
        if let pointer = rule.link, case .string(let link)? = json.resolve(pointer: pointer) { data["link"] = .string(link) }
        let plain = data.mapValues(\.plain).merging(["recipientName": recipient.name ?? ""]) { given, _ in given }
        let message = try library.render(rule.template, locale: locale, data: plain)
        #expect(message.locale == locale)
        for part in [message.subject, message.text, message.html ?? ""] {
            #expect(!part.contains("{{") && !part.contains("\n\n\n"), "\(type) \(locale): \(part)")
        }
        #expect(!message.subject.contains("\n"))
        return message
    }

    /// The conference's title is plain in subject and text, escaped in HTML.
    func expectTitle(_ message: RenderedMessage) throws {
        #expect(message.subject.contains(Self.title))
        #expect(message.text.contains(Self.title))
        let html = try #require(message.html)
        #expect(html.contains("2026 全国计算语言学学术会议 &lt;b&gt;&amp;"))
        #expect(!html.contains("<b>&"))
    }

    @Test("submitted: received; review mentioned only while it is pending review")
    func submitted() throws {
        let pending = try Self.notice("pending_review")
        let zh = try render("registration.submitted", pending, locale: "zh-CN")
        try expectTitle(zh)
        #expect(zh.subject == "已收到您的报名：\(Self.title)")
        #expect(zh.text.hasPrefix("王小明，您好：\n\n我们已收到您提交的「\(Self.title)」报名信息。主办方将对报名进行审核，审核结果将另行通知。\n"))
        #expect(zh.text.contains("查看报名：\(Self.link)"))
        #expect(try #require(zh.html).contains(#"<a href="https://convene.example/registrations/5c0e8a3e?tab=status&amp;from=mail">"#))
        let en = try render("registration.submitted", pending, locale: "en")
        try expectTitle(en)
        #expect(en.text.contains("The organizers will review it and let you know the outcome."))

        let placed = try Self.notice("awaiting_payment")
        let zhPlaced = try render("registration.submitted", placed, locale: "zh-CN")
        #expect(!zhPlaced.text.contains("审核") && zhPlaced.text.contains("报名处理结果将另行通知。"))
        let enPlaced = try render("registration.submitted", placed, locale: "en")
        #expect(!enPlaced.text.contains("review") && enPlaced.text.contains("outcome in a separate message"))
    }

    @Test("approved and rejected: with the reviewer's comment when there is one")
    func reviewed() throws {
        let comment = "请携带学生证 & 报到"
        for (type, status) in [("registration.approved", "awaiting_payment"), ("registration.rejected", "rejected")] {
            let zh = try render(type, try Self.notice(status, comment: comment), locale: "zh-CN")
            try expectTitle(zh)
            #expect(zh.text.contains("审核意见：\(comment)"))
            #expect(try #require(zh.html).contains("请携带学生证 &amp; 报到"))
            let en = try render(type, try Self.notice(status, comment: comment), locale: "en")
            try expectTitle(en)
            #expect(en.text.contains("Reviewer's comment: \(comment)"))
            for absent in [nil, "", " "] {
                let silent = try render(type, try Self.notice(status, comment: absent), locale: "zh-CN")
                #expect(!silent.text.contains("审核意见"))
                #expect(try #require(silent.html).contains("blockquote") == false)
            }
        }
        #expect(try render("registration.approved", try Self.notice("confirmed"), locale: "zh-CN").text.contains("已通过审核"))
        #expect(try render("registration.rejected", try Self.notice("rejected"), locale: "zh-CN").text.contains("很遗憾"))
        #expect(try render("registration.rejected", try Self.notice("rejected"), locale: "en").text.contains("has not been accepted"))
    }

    @Test("changes requested: the comment, and edit and resubmit")
    func changesRequested() throws {
        let notice = try Self.notice("changes_requested", comment: "请补充单位全称，并上传在读证明。")
        let zh = try render("registration.changes_requested", notice, locale: "zh-CN")
        try expectTitle(zh)
        #expect(zh.text.contains("修改报名信息后重新提交：\n\n请补充单位全称，并上传在读证明。\n\n重新提交后，主办方将再次审核。"))
        #expect(zh.text.contains("修改报名：\(Self.link)"))
        let en = try render("registration.changes_requested", notice, locale: "en")
        try expectTitle(en)
        #expect(en.text.contains("请补充单位全称，并上传在读证明。"))
        #expect(en.text.contains("Please edit your registration and submit it again"))
    }

    @Test("waitlisted, and a seat offered until a time shown as given")
    func waitlist() throws {
        let zh = try render("registration.waitlisted", try Self.notice("waitlisted"), locale: "zh-CN")
        try expectTitle(zh)
        #expect(zh.text.contains("候补名单"))
        let en = try render("registration.waitlisted", try Self.notice("waitlisted"), locale: "en")
        try expectTitle(en)
        #expect(en.text.contains("placed on the waitlist"))

        let offered = try Self.notice("offered", offerExpiresAt: ISO8601.parse("2026-11-20T08:00:00Z"))
        let zhOffer = try render("registration.seat_offered", offered, locale: "zh-CN")
        try expectTitle(zhOffer)
        #expect(zhOffer.text.contains("请于 2026-11-20T08:00:00Z 前确认接受"))
        let enOffer = try render("registration.seat_offered", offered, locale: "en")
        try expectTitle(enOffer)
        #expect(enOffer.text.contains("Please accept it before 2026-11-20T08:00:00Z"))
    }

    @Test("awaiting payment: the price formatted for the reader")
    func awaitingPayment() throws {
        let notice = try Self.notice("awaiting_payment")
        let zh = try render("registration.awaiting_payment", notice, locale: "zh-CN")
        try expectTitle(zh)
        #expect(zh.text.contains("请缴纳报名费 ¥1,280.00"))
        #expect(try #require(zh.html).contains("<strong>¥1,280.00</strong>"))
        let en = try render("registration.awaiting_payment", notice, locale: "en")
        try expectTitle(en)
        #expect(en.subject == "Payment request: \(Self.title)")
        #expect(en.text.contains("registration fee of CNY 1,280.00"))
        let dollars = try Self.notice("awaiting_payment", price: Money(amountMinor: 1250, currency: "USD"))
        #expect(try render("registration.awaiting_payment", dollars, locale: "zh-CN").text.contains("US$12.50"))
        #expect(try render("registration.awaiting_payment", dollars, locale: "en").text.contains("US$12.50"))
    }

    @Test("withdrawn, cancelled (full refund of anything paid), expired (seat released)")
    func ended() throws {
        let withdrawn = try Self.notice("withdrawn")
        let zhWithdrawn = try render("registration.withdrawn", withdrawn, locale: "zh-CN")
        try expectTitle(zhWithdrawn)
        #expect(zhWithdrawn.text.contains("您已取消「\(Self.title)」的报名"))
        let enWithdrawn = try render("registration.withdrawn", withdrawn, locale: "en")
        try expectTitle(enWithdrawn)
        #expect(enWithdrawn.text.contains("You have withdrawn your registration"))

        let cancelled = try Self.notice("cancelled", comment: "会议因故取消")
        let zhCancelled = try render("registration.cancelled", cancelled, locale: "zh-CN")
        try expectTitle(zhCancelled)
        #expect(zhCancelled.text.contains("说明：会议因故取消") && zhCancelled.text.contains("全额原路退还"))
        let enCancelled = try render("registration.cancelled", cancelled, locale: "en")
        try expectTitle(enCancelled)
        #expect(enCancelled.text.contains("Note from the organizers: 会议因故取消") && enCancelled.text.contains("refunded in full"))
        #expect(!(try render("registration.cancelled", try Self.notice("cancelled"), locale: "en").text.contains("Note from")))

        let expired = try Self.notice("expired")
        let zhExpired = try render("registration.expired", expired, locale: "zh-CN")
        try expectTitle(zhExpired)
        #expect(zhExpired.text.contains("报名已失效") && zhExpired.text.contains("名额已释放"))
        let enExpired = try render("registration.expired", expired, locale: "en")
        try expectTitle(enExpired)
        #expect(enExpired.text.contains("has expired") && enExpired.text.contains("has been released"))
    }

    @Test("payment succeeded: a receipt with the number, amount and method; a waiver says so instead")
    func paymentSucceeded() throws {
        let zh = try render("payment.succeeded", try Self.payment(), locale: "zh-CN")
        #expect(zh.subject == "付款成功：订单 CV20261102000045")
        #expect(zh.text.contains("""
            订单号：CV20261102000045
            收据编号：R-2026-000123
            金额：¥1,280.00
            支付方式：微信支付
            付款时间：2026-11-02T06:30:00Z
            """))
        let zhHTML = try #require(zh.html)
        #expect(zhHTML.contains("王小明 &lt;b&gt;&amp;，您好") && !zhHTML.contains("<b>&"))
        #expect(zhHTML.contains("<li>金额：<strong>¥1,280.00</strong></li>"))
        let en = try render("payment.succeeded", try Self.payment(), locale: "en")
        #expect(en.subject == "Payment received: order CV20261102000045")
        #expect(en.text.contains("Receipt number: R-2026-000123\nAmount: CNY 1,280.00\nPayment method: WeChat Pay\n"))

        let names = ["wechat_pay": ("微信支付", "WeChat Pay"), "alipay": ("支付宝", "Alipay"), "stripe": ("银行卡（Stripe）", "Card (Stripe)"),
                     "bank_transfer": ("银行转账", "Bank transfer")]
        for (method, (chinese, english)) in names {
            #expect(try render("payment.succeeded", try Self.payment(method: method), locale: "zh-CN").text.contains("支付方式：\(chinese)\n"))
            #expect(try render("payment.succeeded", try Self.payment(method: method), locale: "en").text
                .contains("Payment method: \(english)\n"))
        }
        #expect(!(try render("payment.succeeded", try Self.payment(receiptNumber: nil), locale: "zh-CN").text.contains("收据")))
        let link = "https://convene.example.org/v1/receipts/CV20261102000045?token=abc_DEF-123"
        let linked = try render("payment.succeeded", try Self.payment(receiptUrl: link), locale: "zh-CN")
        #expect(linked.text.contains("电子收据：\(link)\n") && linked.html?.contains("<a href=\"\(link)\">查看电子收据</a>") == true)
        #expect(try render("payment.succeeded", try Self.payment(receiptUrl: link), locale: "en").text.contains("Your receipt: \(link)\n"))
        #expect(!zh.text.contains("电子收据") && !en.text.contains("Your receipt"), "no link, no line")

        let waived = try render("payment.succeeded", try Self.payment(method: "waiver", receiptNumber: nil), locale: "zh-CN")
        #expect(waived.subject == "报名费已减免：订单 CV20261102000045")
        #expect(waived.text.contains("主办方已减免您的报名费") && !waived.text.contains("金额") && !waived.text.contains("收到您的付款"))
        let waivedEN = try render("payment.succeeded", try Self.payment(method: "waiver", receiptNumber: nil), locale: "en")
        #expect(waivedEN.subject == "Registration fee waived: order CV20261102000045" && !waivedEN.text.contains("Amount"))
    }

    @Test("refunded: amount, refund number and the reason in words")
    func refunded() throws {
        let reasons = ["withdrawal": ("您已取消报名", "You withdrew your registration"),
                       "cancellation": ("主办方取消了您的报名", "The organizers cancelled your registration"),
                       "late_payment": ("款项到账时该报名已无需缴费", "The payment arrived when the registration no longer required one"),
                       "duplicate_payment": ("重复付款", "Duplicate payment")]
        for (reason, (chinese, english)) in reasons {
            let zh = try render("payment.refunded", try Self.refund(reason: reason), locale: "zh-CN")
            #expect(zh.subject == "退款已办理：US$12.50")
            #expect(zh.text.contains("退款编号：RF20261105000007\n退款原因：\(chinese)\n"))
            #expect(try #require(zh.html).contains("王小明 &lt;b&gt;&amp;"))
            let en = try render("payment.refunded", try Self.refund(reason: reason), locale: "en")
            #expect(en.subject == "Refund issued: US$12.50")
            #expect(en.text.contains("a refund of US$12.50") && en.text.contains("Reason: \(english)\n"))
        }
    }

    @Test("every registration and payment message is transactional, to the registrant or payer, by email and inbox")
    func rules() throws {
        let registration = ["submitted", "approved", "rejected", "changes_requested", "waitlisted", "seat_offered", "awaiting_payment",
                            "confirmed", "withdrawn", "cancelled", "expired"]
        for event in registration.map({ "registration." + $0 }) + ["payment.succeeded", "payment.refunded"] {
            let rules = book.rules(for: event)
            #expect(rules.count == 1, "\(event)")
            for rule in rules {
                let payment = event.hasPrefix("payment.")
                #expect(rule.transactional && rule.channels == ["email", "inbox"], "\(rule.id)")
                #expect(rule.audience == (payment ? "/payer" : "/registrant") && rule.category == (payment ? "payment" : "registration"))
                #expect(rule.link == (event == "payment.succeeded" ? "/receiptUrl" : payment ? nil : "/link"))
                #expect(library.locales[rule.template] == ["zh-CN", "en"], "\(rule.template)")
            }
        }
        #expect(book.rules(for: "payment.order_created").isEmpty, "registration.awaiting_payment asks for the money")
    }

    @Test("\"registration received\" goes out only while the registration waits for review; otherwise the outcome's message says it all")
    func receivedOnlyForReview() throws {
        func submitted(_ status: String) -> JSONValue {
            .object(["status": .string(status), "registrant": .object(["accountId": .string("a1"), "email": .string("a@example.org")])])
        }
        #expect(book.rules(for: "registration.submitted", data: submitted("pending_review")).map(\.id) == ["registration-submitted-registrant"])
        for status in ["confirmed", "awaiting_payment", "waitlisted"] {
            #expect(book.rules(for: "registration.submitted", data: submitted(status)).isEmpty, "\(status)")
        }
        #expect(book.rules(for: "registration.submitted", data: .object([:])).isEmpty, "no status, no match")
        #expect(book.rules(for: "registration.confirmed", data: submitted("confirmed")).count == 1, "rules without a condition always apply")
        let broken = RuleBook(version: 1, rules: [.init(id: "x", event: "e.f", template: "registration.submitted", category: "c",
                                                        transactional: true, channels: ["email"], audience: "/a", link: nil,
                                                        when: ["status": ["x"]])])
        #expect(throws: RuleBook.Invalid.self) { try broken.validate(templates: library) }
    }
}
