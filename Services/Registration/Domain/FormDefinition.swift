import Foundation

/// The registration form of one conference, as its organizer defines it: an ordered list of
/// fields. Stored and exchanged as JSON; `validate()` checks the definition itself, and
/// `validate(answers:)` (FormAnswers.swift) checks what a participant submits against it.
struct FormDefinition: Codable, Sendable, Equatable {
    var fields: [FormField]

    static let maxFields = 100
    static let maxOptions = 500

    func field(_ key: String) -> FormField? { fields.first { $0.key == key } }
}

struct FormField: Codable, Sendable, Equatable {
    enum FieldType: String, Codable, Sendable, CaseIterable {
        case text, longText, email, phone, number, date, singleChoice, multipleChoice, country, file

        var isChoice: Bool { self == .singleChoice || self == .multipleChoice }
        /// Text types whose `min`/`max` bound the length in characters.
        var isLengthBounded: Bool { self == .text || self == .longText }
        /// What `min`/`max` mean for this type, or nil when the type takes no bounds.
        var boundMeaning: String? {
            switch self {
            case .text, .longText: "length"
            case .number: "value"
            case .multipleChoice: "number of choices"
            case .email, .phone, .date, .singleChoice, .country, .file: nil
            }
        }
    }

    struct Option: Codable, Sendable, Equatable {
        var value: String
        /// By locale: `zh-CN` and/or `en`.
        var label: [String: String]
    }

    /// Shown only when the answer to an earlier field is one of `equals` (for a multiple-choice
    /// field: when its answer contains one of them).
    struct ShowIf: Codable, Sendable, Equatable {
        var field: String
        var equals: [String]
    }

    /// What an upload must be. Types are compared without parameters and case-insensitively.
    struct FileRule: Codable, Sendable, Equatable {
        var maxBytes: Int64
        var allowedTypes: [String]
    }

    /// Default and ceiling of the length of text answers, in characters after trimming.
    static let defaultMaxTextLength = 500
    static let defaultMaxLongTextLength = 10_000
    static let maxLengthCeiling = 10_000

    /// `[a-z][a-zA-Z0-9_]{0,63}`: snake_case or camelCase, usable as a JSON key and column name.
    var key: String
    var type: FieldType
    /// By locale: `zh-CN` and/or `en`.
    var label: [String: String]
    var required: Bool
    /// The choices of a single- or multiple-choice field; absent for every other type.
    var options: [Option]?
    /// Length for text types, value for numbers, count of choices for multiple choice.
    var min: Double?
    var max: Double?
    var showIf: ShowIf?
    /// Required for, and only for, file fields.
    var file: FileRule?

    init(key: String, type: FieldType, label: [String: String], required: Bool = false, options: [Option]? = nil,
         min: Double? = nil, max: Double? = nil, showIf: ShowIf? = nil, file: FileRule? = nil) {
        self.key = key
        self.type = type
        self.label = label
        self.required = required
        self.options = options
        self.min = min
        self.max = max
        self.showIf = showIf
        self.file = file
    }

    enum CodingKeys: String, CodingKey { case key, type, label, required, options, min, max, showIf, file }

    /// `required` may be left out (false).
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        key = try c.decode(String.self, forKey: .key)
        type = try c.decode(FieldType.self, forKey: .type)
        label = try c.decode([String: String].self, forKey: .label)
        required = try c.decodeIfPresent(Bool.self, forKey: .required) ?? false
        options = try c.decodeIfPresent([Option].self, forKey: .options)
        min = try c.decodeIfPresent(Double.self, forKey: .min)
        max = try c.decodeIfPresent(Double.self, forKey: .max)
        showIf = try c.decodeIfPresent(ShowIf.self, forKey: .showIf)
        file = try c.decodeIfPresent(FileRule.self, forKey: .file)
    }

    /// The longest text answer accepted.
    var maxLength: Int {
        if let max, max.isFinite { return Int(Swift.min(Swift.max(max, 0), Double(Self.maxLengthCeiling))) }
        return type == .longText ? Self.defaultMaxLongTextLength : Self.defaultMaxTextLength
    }

    static func isValidKey(_ key: String) -> Bool {
        let bytes = Array(key.utf8)
        guard (1...64).contains(bytes.count), let first = bytes.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first)
        else { return false }
        return bytes.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
        }
    }
}

// MARK: - Validation of the definition

extension FormDefinition {
    /// The locales a label must offer at least one of.
    static let labelLocales = ["zh-CN", "en"]

    /// Every problem with the definition itself (empty when it is usable). Codes:
    /// `no_fields`, `too_many_fields`, `invalid_key`, `duplicate_key`, `missing_label`,
    /// `missing_options`, `options_not_allowed`, `too_many_options`, `invalid_option`,
    /// `duplicate_option`, `show_if_self`, `show_if_unknown_field`, `show_if_forward`,
    /// `show_if_not_choice`, `show_if_empty`, `show_if_unknown_option`, `bounds_not_allowed`,
    /// `invalid_bound`, `min_exceeds_max`, `missing_file_rule`, `file_rule_not_allowed`,
    /// `invalid_file_rule`.
    func validate() -> [ValidationProblem] {
        var problems: [ValidationProblem] = []
        func problem(_ path: String, _ code: String, _ message: String) {
            problems.append(ValidationProblem(path: path, code: code, message: message))
        }
        if fields.isEmpty { problem("fields", "no_fields", "a form needs at least one field") }
        if fields.count > Self.maxFields {
            problem("fields", "too_many_fields", "a form has at most \(Self.maxFields) fields, this one has \(fields.count)")
        }
        var positions: [String: Int] = [:]
        for (index, field) in fields.enumerated() where positions[field.key] == nil {
            positions[field.key] = index
        }
        var seen = Set<String>()
        for (index, field) in fields.enumerated() {
            let path = "fields[\(index)]"
            if !FormField.isValidKey(field.key) {
                problem("\(path).key", "invalid_key",
                        "\"\(field.key)\" is not a field key: a lowercase letter, then up to 63 letters, digits or underscores")
            } else if !seen.insert(field.key).inserted {
                problem("\(path).key", "duplicate_key", "\"\(field.key)\" is the key of an earlier field")
            }
            if !Self.hasUsableLabel(field.label) {
                problem("\(path).label", "missing_label", "a label in zh-CN or en is required")
            }
            validateOptions(of: field, at: path, problem)
            validateBounds(of: field, at: path, problem)
            validateFileRule(of: field, at: path, problem)
            if let showIf = field.showIf {
                validateShowIf(showIf, of: field, index: index, positions: positions, at: "\(path).showIf", problem)
            }
        }
        return problems
    }

    static func hasUsableLabel(_ label: [String: String]) -> Bool {
        labelLocales.contains { locale in
            !(label[locale]?.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ?? true)
        }
    }

    private func validateOptions(of field: FormField, at path: String, _ problem: (String, String, String) -> Void) {
        guard field.type.isChoice else {
            if field.options != nil {
                problem("\(path).options", "options_not_allowed", "only choice fields have options")
            }
            return
        }
        guard let options = field.options, !options.isEmpty else {
            problem("\(path).options", "missing_options", "a choice field needs at least one option")
            return
        }
        if options.count > Self.maxOptions {
            problem("\(path).options", "too_many_options", "a field has at most \(Self.maxOptions) options")
        }
        var values = Set<String>()
        for (index, option) in options.enumerated() {
            let optionPath = "\(path).options[\(index)]"
            let trimmed = option.value.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty || trimmed != option.value || option.value.count > 100 {
                problem("\(optionPath).value", "invalid_option",
                        "an option value is 1 to 100 characters without surrounding spaces")
            } else if !values.insert(option.value).inserted {
                problem("\(optionPath).value", "duplicate_option", "\"\(option.value)\" is already an option")
            }
            if !Self.hasUsableLabel(option.label) {
                problem("\(optionPath).label", "missing_label", "a label in zh-CN or en is required")
            }
        }
    }

    private func validateBounds(of field: FormField, at path: String, _ problem: (String, String, String) -> Void) {
        guard field.min != nil || field.max != nil else { return }
        guard let meaning = field.type.boundMeaning else {
            problem(field.min != nil ? "\(path).min" : "\(path).max", "bounds_not_allowed",
                    "a \(field.type.rawValue) field takes no min or max")
            return
        }
        var valid = true
        for (name, bound) in [("min", field.min), ("max", field.max)] {
            guard let bound else { continue }
            if !bound.isFinite {
                problem("\(path).\(name)", "invalid_bound", "\(name) must be a finite number")
                valid = false
            } else if field.type != .number && (bound < 0 || bound != bound.rounded()) {
                problem("\(path).\(name)", "invalid_bound", "\(name) is a \(meaning): a whole number, zero or more")
                valid = false
            } else if field.type.isLengthBounded && bound > Double(FormField.maxLengthCeiling) {
                problem("\(path).\(name)", "invalid_bound", "text is at most \(FormField.maxLengthCeiling) characters")
                valid = false
            } else if field.type == .multipleChoice, let count = field.options?.count, !(field.options?.isEmpty ?? true),
                      name == "min", bound > Double(count) {
                problem("\(path).min", "invalid_bound", "min asks for more choices than the \(count) options")
                valid = false
            }
        }
        if valid, let min = field.min, let max = field.max, min > max {
            problem("\(path).min", "min_exceeds_max", "min (\(Self.show(min))) is greater than max (\(Self.show(max)))")
        }
    }

    private func validateFileRule(of field: FormField, at path: String, _ problem: (String, String, String) -> Void) {
        guard field.type == .file else {
            if field.file != nil { problem("\(path).file", "file_rule_not_allowed", "only file fields have a file rule") }
            return
        }
        guard let rule = field.file else {
            problem("\(path).file", "missing_file_rule", "a file field needs maxBytes and allowedTypes")
            return
        }
        if rule.maxBytes <= 0 {
            problem("\(path).file.maxBytes", "invalid_file_rule", "maxBytes must be positive")
        }
        if rule.allowedTypes.isEmpty {
            problem("\(path).file.allowedTypes", "invalid_file_rule", "at least one allowed type is required")
        }
        for (index, type) in rule.allowedTypes.enumerated() where FileReference.mediaType(type) == nil {
            problem("\(path).file.allowedTypes[\(index)]", "invalid_file_rule",
                    "\"\(type)\" is not a media type like application/pdf")
        }
    }

    private func validateShowIf(_ showIf: FormField.ShowIf, of field: FormField, index: Int, positions: [String: Int],
                                at path: String, _ problem: (String, String, String) -> Void) {
        if showIf.field == field.key {
            problem("\(path).field", "show_if_self", "a field cannot depend on itself")
            return
        }
        guard let position = positions[showIf.field] else {
            problem("\(path).field", "show_if_unknown_field", "no field has the key \"\(showIf.field)\"")
            return
        }
        guard position < index else {
            problem("\(path).field", "show_if_forward", "\"\(showIf.field)\" comes after this field; showIf refers to an earlier field")
            return
        }
        let controller = fields[position]
        guard controller.type.isChoice || controller.type == .country else {
            problem("\(path).field", "show_if_not_choice",
                    "\"\(showIf.field)\" is a \(controller.type.rawValue) field; showIf refers to a choice or country field")
            return
        }
        if showIf.equals.isEmpty {
            problem("\(path).equals", "show_if_empty", "equals needs at least one value")
        }
        let known: (String) -> Bool = controller.type == .country
            ? { Countries.isAssigned($0) }
            : { value in controller.options?.contains { $0.value == value } ?? false }
        for (valueIndex, value) in showIf.equals.enumerated() where !known(value) {
            problem("\(path).equals[\(valueIndex)]", "show_if_unknown_option",
                    controller.type == .country ? "\"\(value)\" is not an ISO 3166-1 alpha-2 code"
                                                : "\"\(value)\" is not an option of \"\(showIf.field)\"")
        }
    }

    static func show(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }
}
