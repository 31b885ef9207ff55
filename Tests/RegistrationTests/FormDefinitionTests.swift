import Contracts
import Foundation
@testable import Registration
import Testing

/// A label in English, as most test fields need.
let en = ["en": "Label"]

func option(_ value: String) -> FormField.Option { FormField.Option(value: value, label: ["en": value]) }

@Suite("Form definitions")
struct FormDefinitionTests {
    /// One field of every type, with conditions, as an organizer would build it.
    static let conference = FormDefinition(fields: [
        FormField(key: "full_name", type: .text, label: ["zh-CN": "姓名", "en": "Full name"], required: true, min: 2, max: 100),
        FormField(key: "bio", type: .longText, label: ["en": "Short biography"]),
        FormField(key: "email", type: .email, label: ["zh-CN": "电子邮箱"], required: true),
        FormField(key: "phone", type: .phone, label: en),
        FormField(key: "age", type: .number, label: en, min: 16, max: 120),
        FormField(key: "birthDate", type: .date, label: en),
        FormField(key: "role", type: .singleChoice, label: en, required: true,
                  options: [option("student"), option("faculty"), option("industry")]),
        FormField(key: "student_card", type: .file, label: en, required: true,
                  showIf: .init(field: "role", equals: ["student"]),
                  file: .init(maxBytes: 5_000_000, allowedTypes: ["application/pdf", "image/jpeg", "image/png"])),
        FormField(key: "topics", type: .multipleChoice, label: en, options: [option("ml"), option("db"), option("pl")],
                  min: 1, max: 2),
        FormField(key: "ml_track", type: .singleChoice, label: en, options: [option("vision"), option("nlp")],
                  showIf: .init(field: "topics", equals: ["ml"])),
        FormField(key: "country", type: .country, label: en, required: true),
        FormField(key: "id_number", type: .text, label: en, showIf: .init(field: "country", equals: ["CN"])),
    ])

    static func codes(_ definition: FormDefinition) -> [String] { definition.validate().map(\.code) }

    @Test("a form with one field of every type and conditions on earlier fields has no problems")
    func wellFormed() {
        #expect(Self.conference.validate() == [])
        #expect(Set(Self.conference.fields.map(\.type)) == Set(FormField.FieldType.allCases))
    }

    @Test("a form has at least one and at most 100 fields")
    func fieldCount() {
        #expect(Self.codes(FormDefinition(fields: [])) == ["no_fields"])
        let hundred = (0..<100).map { FormField(key: "f\($0)", type: .text, label: en) }
        #expect(Self.codes(FormDefinition(fields: hundred)) == [])
        let more = hundred + [FormField(key: "f100", type: .text, label: en)]
        #expect(Self.codes(FormDefinition(fields: more)) == ["too_many_fields"])
    }

    @Test("keys are a lowercase letter then up to 63 letters, digits or underscores, and unique")
    func keys() {
        for key in ["a", "first_name", "firstName", "x1_y2", "a" + String(repeating: "b", count: 63)] {
            #expect(FormField.isValidKey(key), "\(key)")
        }
        for key in ["", "Name", "1st", "_x", "first-name", "名字", "a b", "a" + String(repeating: "b", count: 64)] {
            #expect(!FormField.isValidKey(key), "\(key)")
        }
        let form = FormDefinition(fields: [
            FormField(key: "name", type: .text, label: en),
            FormField(key: "Name", type: .text, label: en),
            FormField(key: "name", type: .email, label: en),
        ])
        #expect(form.validate() == [
            ValidationProblem(path: "fields[1].key", code: "invalid_key",
                              message: "\"Name\" is not a field key: a lowercase letter, then up to 63 letters, digits or underscores"),
            ValidationProblem(path: "fields[2].key", code: "duplicate_key", message: "\"name\" is the key of an earlier field"),
        ])
    }

    @Test("fields and options need a label in zh-CN or en")
    func labels() {
        let form = FormDefinition(fields: [
            FormField(key: "a", type: .text, label: [:]),
            FormField(key: "b", type: .text, label: ["fr": "Nom"]),
            FormField(key: "c", type: .text, label: ["en": "  "]),
            FormField(key: "d", type: .text, label: ["zh-CN": "单位"]),
            FormField(key: "e", type: .singleChoice, label: en, options: [.init(value: "x", label: [:])]),
        ])
        #expect(form.validate().map(\.path) == ["fields[0].label", "fields[1].label", "fields[2].label", "fields[4].options[0].label"])
        #expect(Set(Self.codes(form)) == ["missing_label"])
    }

    @Test("choice fields have unique non-blank options; other fields have none")
    func options() {
        let form = FormDefinition(fields: [
            FormField(key: "a", type: .singleChoice, label: en),
            FormField(key: "b", type: .multipleChoice, label: en, options: []),
            FormField(key: "c", type: .singleChoice, label: en, options: [option("x"), option("y"), option("x")]),
            FormField(key: "d", type: .text, label: en, options: [option("x")]),
            FormField(key: "e", type: .singleChoice, label: en, options: [.init(value: "", label: en), option(" padded ")]),
        ])
        #expect(form.validate().map { "\($0.path) \($0.code)" } == [
            "fields[0].options missing_options",
            "fields[1].options missing_options",
            "fields[2].options[2].value duplicate_option",
            "fields[3].options options_not_allowed",
            "fields[4].options[0].value invalid_option",
            "fields[4].options[1].value invalid_option",
        ])
        let many = FormDefinition(fields: [
            FormField(key: "a", type: .singleChoice, label: en, options: (0...FormDefinition.maxOptions).map { option("o\($0)") }),
        ])
        #expect(Self.codes(many) == ["too_many_options"])
    }

    @Test("showIf refers to an earlier choice or country field, never to itself or a later one, with its values")
    func showIf() {
        let form = FormDefinition(fields: [
            FormField(key: "role", type: .singleChoice, label: en, options: [option("student"), option("staff")]),
            FormField(key: "name", type: .text, label: en),
            FormField(key: "self_ref", type: .text, label: en, showIf: .init(field: "self_ref", equals: ["x"])),
            FormField(key: "ghost", type: .text, label: en, showIf: .init(field: "nowhere", equals: ["x"])),
            FormField(key: "early", type: .text, label: en, showIf: .init(field: "late", equals: ["yes"])),
            FormField(key: "late", type: .singleChoice, label: en, options: [option("yes")]),
            FormField(key: "by_text", type: .text, label: en, showIf: .init(field: "name", equals: ["Ada"])),
            FormField(key: "empty", type: .text, label: en, showIf: .init(field: "role", equals: [])),
            FormField(key: "unknown", type: .text, label: en, showIf: .init(field: "role", equals: ["student", "alien"])),
            FormField(key: "nation", type: .country, label: en),
            FormField(key: "by_country", type: .text, label: en, showIf: .init(field: "nation", equals: ["CN", "XX"])),
        ])
        #expect(form.validate().map { "\($0.path) \($0.code)" } == [
            "fields[2].showIf.field show_if_self",
            "fields[3].showIf.field show_if_unknown_field",
            "fields[4].showIf.field show_if_forward",
            "fields[6].showIf.field show_if_not_choice",
            "fields[7].showIf.equals show_if_empty",
            "fields[8].showIf.equals[1] show_if_unknown_option",
            "fields[10].showIf.equals[1] show_if_unknown_option",
        ])
    }

    @Test("two fields that depend on each other are refused: one of them refers forward")
    func noCycles() {
        let form = FormDefinition(fields: [
            FormField(key: "a", type: .singleChoice, label: en, options: [option("y")], showIf: .init(field: "b", equals: ["y"])),
            FormField(key: "b", type: .singleChoice, label: en, options: [option("y")], showIf: .init(field: "a", equals: ["y"])),
        ])
        #expect(form.validate().map { "\($0.path) \($0.code)" } == ["fields[0].showIf.field show_if_forward"])
    }

    @Test("min and max fit the type and min is not above max")
    func bounds() {
        let form = FormDefinition(fields: [
            FormField(key: "a", type: .text, label: en, min: 10, max: 5),
            FormField(key: "b", type: .number, label: en, min: -5.5, max: 3.25),
            FormField(key: "c", type: .number, label: en, min: 4, max: 3),
            FormField(key: "d", type: .email, label: en, max: 100),
            FormField(key: "e", type: .date, label: en, min: 1),
            FormField(key: "f", type: .text, label: en, min: -1),
            FormField(key: "g", type: .longText, label: en, max: 2.5),
            FormField(key: "h", type: .text, label: en, max: 20_000),
            FormField(key: "i", type: .multipleChoice, label: en, options: [option("x"), option("y")], min: 3),
            FormField(key: "j", type: .multipleChoice, label: en, options: [option("x"), option("y")], min: 0, max: 1),
            FormField(key: "k", type: .number, label: en, max: .infinity),
        ])
        #expect(form.validate().map { "\($0.path) \($0.code)" } == [
            "fields[0].min min_exceeds_max",
            "fields[2].min min_exceeds_max",
            "fields[3].max bounds_not_allowed",
            "fields[4].min bounds_not_allowed",
            "fields[5].min invalid_bound",
            "fields[6].max invalid_bound",
            "fields[7].max invalid_bound",
            "fields[8].min invalid_bound",
            "fields[10].max invalid_bound",
        ])
    }

    @Test("file fields need a positive size limit and media types; other fields take no file rule")
    func fileRules() {
        let form = FormDefinition(fields: [
            FormField(key: "a", type: .file, label: en),
            FormField(key: "b", type: .file, label: en, file: .init(maxBytes: 0, allowedTypes: [])),
            FormField(key: "c", type: .file, label: en, file: .init(maxBytes: 10, allowedTypes: ["application/pdf", "pdf", "image/"])),
            FormField(key: "d", type: .text, label: en, file: .init(maxBytes: 10, allowedTypes: ["application/pdf"])),
        ])
        #expect(form.validate().map { "\($0.path) \($0.code)" } == [
            "fields[0].file missing_file_rule",
            "fields[1].file.maxBytes invalid_file_rule",
            "fields[1].file.allowedTypes invalid_file_rule",
            "fields[2].file.allowedTypes[1] invalid_file_rule",
            "fields[2].file.allowedTypes[2] invalid_file_rule",
            "fields[3].file file_rule_not_allowed",
        ])
    }

    @Test("every problem is reported, not only the first")
    func allProblems() {
        let form = FormDefinition(fields: [
            FormField(key: "Bad", type: .singleChoice, label: [:]),
            FormField(key: "x", type: .text, label: en, min: 9, max: 1, showIf: .init(field: "y", equals: ["1"])),
            FormField(key: "x", type: .file, label: en),
        ])
        #expect(Self.codes(form) == ["invalid_key", "missing_label", "missing_options", "min_exceeds_max",
                                     "show_if_unknown_field", "duplicate_key", "missing_file_rule"])
        let error = ConveneError.invalid("registration.invalid_form", "the form", problems: form.validate())
        #expect(error.code == "registration.invalid_form")
        #expect(error.message == "the form has 7 problems")
        #expect(error.details?["fields[1].min"] == "min_exceeds_max: min (9) is greater than max (1)")
        #expect(error.details?["fields[0].options"] == "missing_options: a choice field needs at least one option")
    }

    @Test("a definition reads from JSON, required defaults to false, and it encodes back to the same value")
    func json() throws {
        let text = """
        {"fields": [
          {"key": "name", "type": "text", "label": {"zh-CN": "姓名", "en": "Name"}, "required": true, "max": 50},
          {"key": "kind", "type": "singleChoice", "label": {"en": "Kind"},
           "options": [{"value": "a", "label": {"en": "A"}}, {"value": "b", "label": {"zh-CN": "乙"}}]},
          {"key": "proof", "type": "file", "label": {"en": "Proof"}, "showIf": {"field": "kind", "equals": ["b"]},
           "file": {"maxBytes": 1048576, "allowedTypes": ["application/pdf"]}}
        ]}
        """
        let form = try JSONDecoder().decode(FormDefinition.self, from: Data(text.utf8))
        #expect(form.validate() == [])
        #expect(form.fields[0].required && !form.fields[1].required && !form.fields[2].required)
        #expect(form.fields[0].max == 50)
        #expect(form.fields[2].showIf == .init(field: "kind", equals: ["b"]))
        let again = try JSONDecoder().decode(FormDefinition.self, from: JSONEncoder().encode(form))
        #expect(again == form)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(FormDefinition.self, from: Data(#"{"fields":[{"key":"a","type":"slider","label":{}}]}"#.utf8))
        }
    }
}
