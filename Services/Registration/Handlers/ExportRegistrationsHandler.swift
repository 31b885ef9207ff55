import Contracts
import Foundation
import Persistence

/// `registration.export`: a conference's registrations with their form answers, for organizers.
struct ExportRegistrationsHandler: MessageHandler {
    let store: RegistrationStore
    var messageType: String { ExportRegistrations.messageType }

    func handle(_ message: Envelope<ExportRegistrations>, context: HandlerContext) async throws -> ExportedFile {
        let organizationId = try message.requireOrganization()
        let conferenceId = try RegistrationIds.parse(message.data.conferenceId, "conference")
        guard ["csv", "xlsx"].contains(message.data.format) else {
            throw ConveneError(code: "registration.unknown_format", message: "format is csv or xlsx")
        }
        guard let conference = try await store.conference(conferenceId, in: context.transaction),
              conference.organizationId == organizationId,
              let settings = try await store.settings(conferenceId: conferenceId, lock: .none, in: context.transaction) else {
            throw ConveneError(code: "registration.not_found", message: "no such conference")
        }
        let form = try RegistrationFlow.Rules(settings).form
        var rows: [[String]] = []
        let fixed = ["registration_id", "submitted_at", "status", "category", "name", "email", "price", "paid", "refunded",
                     "currency", "consent_to_contact", "invoice_title", "invoice_tax_id"]
        rows.append(fixed + form.fields.map { $0.label["zh-CN"] ?? $0.label["en"] ?? $0.key })
        for record in try await store.all(conferenceId: conferenceId, organizationId: organizationId, in: context.transaction) {
            let state = record.state
            let cells = [record.id.lowercased, ISO8601.format(record.submittedAt), state.status.rawValue, state.category,
                         record.registrant.name, record.registrant.email, String(state.price.amountMinor), String(state.paid.amountMinor),
                         String(state.refunded.amountMinor), state.price.currency, record.consentToContact ? "yes" : "no",
                         record.invoice?.title ?? "", record.invoice?.taxId ?? ""]
            rows.append(cells + form.fields.map { Self.text(record.answers[$0.key]) })
        }
        let name = "registrations-\(conferenceId.lowercased)"
        if message.data.format == "xlsx" {
            let workbook = try XLSXWriter.workbook(sheetName: "Registrations", rows: rows)
            return ExportedFile(fileName: name + ".xlsx",
                                contentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                body: workbook.base64EncodedString())
        }
        var csv = CSVWriter()
        rows.forEach { csv.row($0) }
        return ExportedFile(fileName: name + ".csv", contentType: "text/csv; charset=utf-8", body: Data(csv.text.utf8).base64EncodedString())
    }

    /// An answer as one cell: choices joined with "; ", a file by its name.
    static func text(_ value: JSONValue?) -> String {
        switch value {
        case nil, .null?: return ""
        case .string(let text)?: return text
        case .number(let number)?: return number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case .bool(let flag)?: return flag ? "yes" : "no"
        case .array(let items)?: return items.map { text($0) }.joined(separator: "; ")
        case .object(let object)?:
            if case .string(let name)? = object["fileName"] { return name }
            return ""
        }
    }
}
