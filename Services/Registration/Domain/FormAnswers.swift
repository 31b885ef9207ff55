import Contracts
import Foundation

/// An uploaded file as the gateway hands it over: the content-addressed blob key, what the upload
/// said it was, its size and the name the participant gave it. Answers carry only this reference.
struct FileReference: Codable, Sendable, Equatable {
    var blobKey: String
    var contentType: String
    var size: Int64
    var fileName: String

    /// Read from an answer: nil unless every part is well formed (`sha256-` and 64 lowercase hex
    /// digits, a media type, a positive size, a plain file name of at most 255 characters).
    /// The content type comes back lowercased and without parameters.
    init?(json: JSONValue) {
        guard case .object(let object) = json,
              case .string(let blobKey)? = object["blobKey"], Self.isBlobKey(blobKey),
              case .string(let contentType)? = object["contentType"], let mediaType = Self.mediaType(contentType),
              case .number(let size)? = object["size"], size >= 1, size == size.rounded(), size < 9e15,
              case .string(let fileName)? = object["fileName"], Self.isPlainFileName(fileName)
        else { return nil }
        self.init(blobKey: blobKey, contentType: mediaType, size: Int64(size), fileName: fileName)
    }

    init(blobKey: String, contentType: String, size: Int64, fileName: String) {
        self.blobKey = blobKey
        self.contentType = contentType
        self.size = size
        self.fileName = fileName
    }

    var json: JSONValue {
        .object(["blobKey": .string(blobKey), "contentType": .string(contentType), "size": .number(Double(size)),
                 "fileName": .string(fileName)])
    }

    static func isBlobKey(_ key: String) -> Bool {
        guard key.hasPrefix("sha256-") else { return false }
        let hex = key.utf8.dropFirst(7)
        return hex.count == 64 && hex.allSatisfy {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0)
        }
    }

    /// `type/subtype`, lowercased, parameters (`; charset=…`) dropped; nil when it is not one.
    static func mediaType(_ text: String) -> String? {
        let bare = text.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let parts = bare.trimmingCharacters(in: .whitespaces).lowercased().split(separator: "/", omittingEmptySubsequences: false)
        let token: (Substring) -> Bool = { part in
            !part.isEmpty && part.count <= 127 && part.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || "!#$&-^_.+".utf8.contains(byte)
            }
        }
        guard parts.count == 2, token(parts[0]), token(parts[1]) else { return nil }
        return "\(parts[0])/\(parts[1])"
    }

    static func isPlainFileName(_ name: String) -> Bool {
        !name.trimmingCharacters(in: .whitespaces).isEmpty && name.count <= 255 && name != "." && name != ".."
            && !name.unicodeScalars.contains { $0 == "/" || $0 == "\\" || $0.properties.generalCategory == .control }
    }
}

/// Why one answer was not accepted. The codes are the contract (clients translate them); the
/// messages are English help for people reading logs and API answers.
struct FieldError: Codable, Sendable, Equatable, CustomStringConvertible {
    enum Code: String, Codable, Sendable, CaseIterable {
        case required
        case unknownField = "unknown_field"
        case wrongType = "wrong_type"
        case tooShort = "too_short"
        case tooLong = "too_long"
        case invalidEmail = "invalid_email"
        case invalidPhone = "invalid_phone"
        case notANumber = "not_a_number"
        case outOfRange = "out_of_range"
        case invalidDate = "invalid_date"
        case unknownOption = "unknown_option"
        case tooManyChoices = "too_many_choices"
        case tooFewChoices = "too_few_choices"
        case invalidCountry = "invalid_country"
        case fileTooLarge = "file_too_large"
        case fileTypeNotAllowed = "file_type_not_allowed"
        case invalidFileReference = "invalid_file_reference"
    }

    /// The field's key.
    var field: String
    var code: Code
    var message: String

    var description: String { "\(field): \(code.rawValue): \(message)" }
}

/// Every rejected answer of a submission, in the order of the form (unknown fields last).
struct FieldErrors: Error, Sendable, Equatable, RandomAccessCollection {
    var errors: [FieldError]

    var startIndex: Int { errors.startIndex }
    var endIndex: Int { errors.endIndex }
    subscript(position: Int) -> FieldError { errors[position] }

    /// The error for one field, if it has one.
    subscript(field: String) -> FieldError? { errors.first { $0.field == field } }

    /// `registration.invalid_answers`, with each field's `code: message` in the details.
    var conveneError: ConveneError {
        ConveneError(code: "registration.invalid_answers",
                     message: errors.count == 1 ? "1 answer was not accepted" : "\(errors.count) answers were not accepted",
                     details: Dictionary(errors.map { ($0.field, "\($0.code.rawValue): \($0.message)") }) { first, _ in first })
    }
}

/// The accepted answers, normalized: trimmed text, normalized email domain and phone number,
/// upper-case country codes, numbers as numbers, de-duplicated choices, file references with the
/// four keys only. Fields that were hidden or left empty are absent. Encodes as a plain object.
struct CleanAnswers: Codable, Sendable, Equatable {
    var values: [String: JSONValue]

    init(_ values: [String: JSONValue] = [:]) { self.values = values }

    init(from decoder: any Decoder) throws {
        values = try decoder.singleValueContainer().decode([String: JSONValue].self)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(values)
    }

    subscript(key: String) -> JSONValue? { values[key] }

    func text(_ key: String) -> String? {
        if case .string(let text)? = values[key] { text } else { nil }
    }

    func number(_ key: String) -> Double? {
        if case .number(let number)? = values[key] { number } else { nil }
    }

    func choices(_ key: String) -> [String]? {
        guard case .array(let list)? = values[key] else { return nil }
        return list.compactMap { if case .string(let text) = $0 { text } else { nil } }
    }

    func file(_ key: String) -> FileReference? { values[key].flatMap(FileReference.init(json:)) }

    /// Every file answer by field key: the blobs this registration refers to.
    var files: [String: FileReference] { values.compactMapValues(FileReference.init(json:)) }
}

// MARK: - Validation of answers

extension FormDefinition {
    /// Checks a submission field by field, in form order. A field is shown when it has no
    /// `showIf`, or when the field it refers to is shown and its accepted answer matches; answers
    /// to hidden fields are dropped without error and `required` applies only to shown fields.
    /// An answer that is null, blank after trimming or an empty list counts as no answer. Each
    /// field gets at most one error (the first check it fails); keys the form does not have are
    /// `unknown_field`.
    func validate(answers: [String: JSONValue]) -> Result<CleanAnswers, FieldErrors> {
        var clean: [String: JSONValue] = [:]
        var errors: [FieldError] = []
        for field in fields {
            if let showIf = field.showIf, !Self.matches(showIf, clean[showIf.field]) { continue }
            let answer = answers[field.key] ?? .null
            if Self.isBlank(answer) {
                if field.required {
                    errors.append(FieldError(field: field.key, code: .required, message: "an answer is required"))
                }
                continue
            }
            switch field.check(answer) {
            case .accepted(let value): clean[field.key] = value
            case .rejected(let error): errors.append(error)
            }
        }
        let known = Set(fields.map(\.key))
        for key in answers.keys.sorted() where !known.contains(key) {
            errors.append(FieldError(field: key, code: .unknownField, message: "the form has no field \"\(key)\""))
        }
        return errors.isEmpty ? .success(CleanAnswers(clean)) : .failure(FieldErrors(errors: errors))
    }

    static func isBlank(_ answer: JSONValue) -> Bool {
        switch answer {
        case .null: true
        case .string(let text): text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        case .array(let list): list.isEmpty
        default: false
        }
    }

    /// Whether an accepted answer satisfies a `showIf`: one of the values, or for a list of
    /// choices, containing one of them. No answer never matches.
    static func matches(_ showIf: FormField.ShowIf, _ answer: JSONValue?) -> Bool {
        switch answer {
        case .string(let value)?: showIf.equals.contains(value)
        case .array(let list)?: list.contains { if case .string(let value) = $0 { showIf.equals.contains(value) } else { false } }
        default: false
        }
    }
}

/// One answer checked: its normalized value, or why it was not accepted.
enum AnswerCheck: Sendable, Equatable {
    case accepted(JSONValue)
    case rejected(FieldError)
}

extension FormField {
    /// The normalized answer, or why it is not acceptable. `answer` is not blank.
    func check(_ answer: JSONValue) -> AnswerCheck {
        func fail(_ code: FieldError.Code, _ message: String) -> AnswerCheck {
            .rejected(FieldError(field: key, code: code, message: message))
        }
        func string() -> String? {
            if case .string(let text) = answer { text.trimmingCharacters(in: .whitespacesAndNewlines) } else { nil }
        }
        let wrongType: (String) -> AnswerCheck = { fail(.wrongType, "expected \($0)") }

        switch type {
        case .text, .longText:
            guard let text = string() else { return wrongType("text") }
            if let min, Double(text.count) < min {
                return fail(.tooShort, "at least \(FormDefinition.show(min)) characters")
            }
            if text.count > maxLength { return fail(.tooLong, "at most \(maxLength) characters") }
            return .accepted(.string(text))

        case .email:
            guard let text = string() else { return wrongType("an email address") }
            guard let email = Self.normalizedEmail(text) else { return fail(.invalidEmail, "not an email address") }
            return .accepted(.string(email))

        case .phone:
            guard let text = string() else { return wrongType("a phone number as text") }
            guard let phone = Self.normalizedPhone(text) else {
                return fail(.invalidPhone, "a phone number is an optional + and 6 to 20 digits (spaces and dashes allowed)")
            }
            return .accepted(.string(phone))

        case .number:
            let number: Double
            switch answer {
            case .number(let value): number = value
            case .string:
                guard let value = Self.decimal(string() ?? "") else { return fail(.notANumber, "not a number") }
                number = value
            default: return wrongType("a number")
            }
            if let min, number < min { return fail(.outOfRange, "at least \(FormDefinition.show(min))") }
            if let max, number > max { return fail(.outOfRange, "at most \(FormDefinition.show(max))") }
            return .accepted(.number(number))

        case .date:
            guard let text = string() else { return wrongType("a date as text") }
            guard Self.isCalendarDate(text) else { return fail(.invalidDate, "a date is yyyy-MM-dd and must exist") }
            return .accepted(.string(text))

        case .singleChoice:
            guard let value = string() else { return wrongType("one option value") }
            guard options?.contains(where: { $0.value == value }) ?? false else {
                return fail(.unknownOption, "\"\(value)\" is not an option")
            }
            return .accepted(.string(value))

        case .multipleChoice:
            guard case .array(let list) = answer else { return wrongType("a list of option values") }
            var chosen: [String] = []
            for item in list {
                guard case .string(let raw) = item else { return wrongType("a list of option values") }
                let value = raw.trimmingCharacters(in: .whitespacesAndNewlines)
                if !chosen.contains(value) { chosen.append(value) }
            }
            let unknown = chosen.filter { value in !(options?.contains { $0.value == value } ?? false) }
            if !unknown.isEmpty {
                return fail(.unknownOption, unknown.map { "\"\($0)\"" }.joined(separator: ", ") + (unknown.count == 1 ? " is not an option" : " are not options"))
            }
            if let min, Double(chosen.count) < min { return fail(.tooFewChoices, "choose at least \(FormDefinition.show(min))") }
            if let max, Double(chosen.count) > max { return fail(.tooManyChoices, "choose at most \(FormDefinition.show(max))") }
            return .accepted(.array(chosen.map(JSONValue.string)))

        case .country:
            guard let text = string() else { return wrongType("a country code") }
            let code = text.uppercased()
            guard Countries.isAssigned(code) else {
                return fail(.invalidCountry, "\"\(text)\" is not an ISO 3166-1 alpha-2 country code")
            }
            return .accepted(.string(code))

        case .file:
            guard case .object = answer else { return wrongType("an uploaded file") }
            guard let reference = FileReference(json: answer) else {
                return fail(.invalidFileReference, "not a file reference from an upload")
            }
            if let rule = file {
                if reference.size > rule.maxBytes { return fail(.fileTooLarge, "at most \(rule.maxBytes) bytes") }
                let allowed = rule.allowedTypes.compactMap(FileReference.mediaType)
                if !allowed.contains(reference.contentType) {
                    return fail(.fileTypeNotAllowed, "\(reference.contentType) is not one of \(allowed.joined(separator: ", "))")
                }
            }
            return .accepted(reference.json)
        }
    }

    /// `local@domain` in ASCII: the local part up to 64 characters of letters, digits and
    /// ``!#$%&'*+/=?^_`{|}~.-`` without leading, trailing or doubled dots; a domain of at least
    /// two dot-separated labels (letters, digits, inner hyphens), lowercased. At most 254 in all.
    static func normalizedEmail(_ text: String) -> String? {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, text.utf8.count <= 254 else { return nil }
        let local = parts[0], domain = parts[1].lowercased()
        let localSpecials = "!#$%&'*+/=?^_`{|}~.-".utf8
        guard (1...64).contains(local.utf8.count), local.first != ".", local.last != ".", !local.contains(".."),
              local.utf8.allSatisfy({ isASCIIAlphanumeric($0) || localSpecials.contains($0) })
        else { return nil }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ label in
            (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
                && label.utf8.allSatisfy { isASCIIAlphanumeric($0) || $0 == UInt8(ascii: "-") }
        }), let top = labels.last, top.utf8.count >= 2, !top.allSatisfy(\.isNumber)
        else { return nil }
        return "\(local)@\(domain)"
    }

    /// An optional `+` then 6 to 20 digits; spaces and dashes between them are dropped.
    static func normalizedPhone(_ text: String) -> String? {
        var rest = Substring(text)
        let plus = rest.first == "+"
        if plus { rest = rest.dropFirst() }
        guard let first = rest.first, first.isASCII, first.isNumber else { return nil }
        var digits = ""
        for character in rest {
            if character.isASCII && character.isNumber { digits.append(character) }
            else if character != " " && character != "-" { return nil }
        }
        guard (6...20).contains(digits.count) else { return nil }
        return (plus ? "+" : "") + digits
    }

    /// A plain decimal: optional minus, digits, optional fraction (no exponents, hex, inf or nan).
    static func decimal(_ text: String) -> Double? {
        var rest = Substring(text)
        if rest.first == "-" { rest = rest.dropFirst() }
        let pieces = rest.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard !pieces.isEmpty, pieces.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { (48...57).contains($0) } })
        else { return nil }
        return Double(text).flatMap { $0.isFinite ? $0 : nil }
    }

    /// `yyyy-MM-dd`, a day that exists in the proleptic Gregorian calendar (year 0001 or later).
    static func isCalendarDate(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return false }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              year >= 1, (1...12).contains(month), day >= 1 else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return day <= days
    }

    private static func isASCIIAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
