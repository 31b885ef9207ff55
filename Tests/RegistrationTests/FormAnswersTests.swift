import Contracts
import Foundation
@testable import Registration
import Testing

@Suite("Form answers")
struct FormAnswersTests {
    let blobKey = "sha256-" + String(repeating: "ab", count: 32)

    /// One field alone: its clean value when accepted.
    func accepted(_ field: FormField, _ answer: JSONValue) -> JSONValue? {
        try? FormDefinition(fields: [field]).validate(answers: [field.key: answer]).get()[field.key]
    }

    /// One field alone: the code of its error when rejected.
    func code(_ field: FormField, _ answer: JSONValue) -> FieldError.Code? {
        if case .failure(let errors) = FormDefinition(fields: [field]).validate(answers: [field.key: answer]) {
            errors.first?.code
        } else {
            nil
        }
    }

    func upload(type: String = "application/pdf", size: Double = 1000, name: String = "abstract.pdf",
                key: String? = nil) -> JSONValue {
        .object(["blobKey": .string(key ?? blobKey), "contentType": .string(type), "size": .number(size),
                 "fileName": .string(name)])
    }

    @Test("a required field needs an answer: missing, null, blank text and an empty list are none")
    func required() {
        let name = FormField(key: "name", type: .text, label: en, required: true)
        let topics = FormField(key: "topics", type: .multipleChoice, label: en, required: true, options: [option("a")])
        let form = FormDefinition(fields: [name, topics])
        for answers: [String: JSONValue] in [[:], ["name": .null, "topics": .null], ["name": .string("  \n"), "topics": .array([])]] {
            guard case .failure(let errors) = form.validate(answers: answers) else { Issue.record("accepted \(answers)"); continue }
            #expect(errors.map(\.code) == [.required, .required])
            #expect(errors.map(\.field) == ["name", "topics"])
        }
        let optional = FormField(key: "nick", type: .text, label: en)
        #expect(FormDefinition(fields: [optional]).validate(answers: ["nick": .string("   ")]) == .success(CleanAnswers()))
    }

    @Test("an answer to a field the form does not have is unknown_field, listed after the form's own errors")
    func unknownField() {
        let form = FormDefinition(fields: [FormField(key: "name", type: .text, label: en, required: true)])
        guard case .failure(let errors) = form.validate(answers: ["zeta": .string("x"), "alpha": .number(1)]) else {
            Issue.record("accepted unknown fields"); return
        }
        #expect(errors.map { "\($0.field) \($0.code.rawValue)" } == ["name required", "alpha unknown_field", "zeta unknown_field"])
    }

    @Test("an answer of the wrong JSON type is wrong_type")
    func wrongType() {
        let cases: [(FormField, JSONValue)] = [
            (FormField(key: "a", type: .text, label: en), .number(3)),
            (FormField(key: "a", type: .longText, label: en), .bool(true)),
            (FormField(key: "a", type: .email, label: en), .array([.string("a@b.cn")])),
            (FormField(key: "a", type: .phone, label: en), .number(13_800_138_000)),
            (FormField(key: "a", type: .number, label: en), .bool(false)),
            (FormField(key: "a", type: .date, label: en), .number(20_260_101)),
            (FormField(key: "a", type: .singleChoice, label: en, options: [option("x")]), .array([.string("x")])),
            (FormField(key: "a", type: .multipleChoice, label: en, options: [option("x")]), .string("x")),
            (FormField(key: "a", type: .multipleChoice, label: en, options: [option("x")]), .array([.number(1)])),
            (FormField(key: "a", type: .country, label: en), .object([:])),
            (FormField(key: "a", type: .file, label: en, file: .init(maxBytes: 10, allowedTypes: ["image/png"])), .string("x.png")),
        ]
        for (field, answer) in cases {
            #expect(code(field, answer) == .wrongType, "\(field.type) \(answer)")
        }
    }

    @Test("text is trimmed and bounded: 500 characters by default, 10,000 for long text, or the field's min and max")
    func textLength() {
        let text = FormField(key: "a", type: .text, label: en)
        let long = FormField(key: "a", type: .longText, label: en)
        #expect(accepted(text, .string("  Ada Lovelace \n")) == .string("Ada Lovelace"))
        #expect(accepted(text, .string(String(repeating: "字", count: 500))) != nil)
        #expect(code(text, .string(String(repeating: "字", count: 501))) == .tooLong)
        #expect(accepted(text, .string(" " + String(repeating: "x", count: 500) + " ")) != nil)
        #expect(accepted(long, .string(String(repeating: "x", count: 10_000))) != nil)
        #expect(code(long, .string(String(repeating: "x", count: 10_001))) == .tooLong)
        let bounded = FormField(key: "a", type: .text, label: en, min: 3, max: 5)
        #expect(code(bounded, .string(" ab ")) == .tooShort)
        #expect(accepted(bounded, .string("abc")) == .string("abc"))
        #expect(accepted(bounded, .string("abcde")) == .string("abcde"))
        #expect(code(bounded, .string("abcdef")) == .tooLong)
    }

    @Test("email addresses are checked for shape and their domain is lowercased")
    func email() {
        let field = FormField(key: "a", type: .email, label: en)
        #expect(accepted(field, .string(" Ada.Lovelace+conf@Example.ORG ")) == .string("Ada.Lovelace+conf@example.org"))
        #expect(accepted(field, .string("zhang_san@mail.tsinghua.edu.cn")) == .string("zhang_san@mail.tsinghua.edu.cn"))
        for bad in ["plain", "a@b", "@example.org", "a@@example.org", "a b@example.org", "a@exa mple.org", ".a@example.org",
                    "a.@example.org", "a..b@example.org", "a@-example.org", "a@example-.org", "a@example.c", "a@1.2.3.4",
                    "a@example..org", String(repeating: "x", count: 65) + "@example.org", "张三@example.org"] {
            #expect(code(field, .string(bad)) == .invalidEmail, "\(bad)")
        }
    }

    @Test("phone numbers are an optional + and 6 to 20 digits; spaces and dashes are dropped")
    func phone() {
        let field = FormField(key: "a", type: .phone, label: en)
        #expect(accepted(field, .string("+86 138-0013-8000")) == .string("+8613800138000"))
        #expect(accepted(field, .string("010 6275 1234")) == .string("01062751234"))
        #expect(accepted(field, .string("123456")) == .string("123456"))
        #expect(accepted(field, .string("+" + String(repeating: "9", count: 20))) != nil)
        for bad in ["12345", "+" + String(repeating: "9", count: 21), "(010) 62751234", "+86 138 abc", "++8613800138000",
                    "+ 8613800138000", "138.0013.8000", "-13800138000"] {
            #expect(code(field, .string(bad)) == .invalidPhone, "\(bad)")
        }
    }

    @Test("numbers come as JSON numbers or decimal text and must lie within min and max")
    func numbers() {
        let field = FormField(key: "a", type: .number, label: en, min: 0, max: 10.5)
        #expect(accepted(field, .number(3)) == .number(3))
        #expect(accepted(field, .string(" 10.5 ")) == .number(10.5))
        #expect(accepted(field, .number(0)) == .number(0))
        for bad in ["ten", "1e3", "0x10", "nan", "inf", "1.", ".5", "--1", "1,5"] {
            #expect(code(field, .string(bad)) == .notANumber, "\(bad)")
        }
        #expect(code(field, .number(-0.01)) == .outOfRange)
        #expect(code(field, .number(10.51)) == .outOfRange)
        #expect(code(field, .string("-3")) == .outOfRange)
    }

    @Test("dates are yyyy-MM-dd days that exist, leap years included")
    func dates() {
        let field = FormField(key: "a", type: .date, label: en)
        for good in ["2026-11-22", "2024-02-29", "2000-02-29", "0001-01-01", "9999-12-31"] {
            #expect(accepted(field, .string(good)) == .string(good), "\(good)")
        }
        for bad in ["2025-02-29", "1900-02-29", "2026-04-31", "2026-13-01", "2026-00-10", "2026-01-00", "0000-01-01",
                    "2026-1-01", "26-01-01", "2026/01/01", "2026-01-01T00:00:00Z", "yesterday"] {
            #expect(code(field, .string(bad)) == .invalidDate, "\(bad)")
        }
    }

    @Test("choices must be options; multiple choices are de-duplicated and counted against min and max")
    func choices() {
        let single = FormField(key: "a", type: .singleChoice, label: en, options: [option("student"), option("staff")])
        #expect(accepted(single, .string(" student ")) == .string("student"))
        #expect(code(single, .string("Student")) == .unknownOption)
        let multiple = FormField(key: "a", type: .multipleChoice, label: en,
                                 options: [option("ml"), option("db"), option("pl"), option("os")], min: 2, max: 3)
        #expect(accepted(multiple, .array([.string("db"), .string("ml"), .string("db")])) == .array([.string("db"), .string("ml")]))
        #expect(code(multiple, .array([.string("ml"), .string("ai")])) == .unknownOption)
        #expect(code(multiple, .array([.string("ml"), .string("ml")])) == .tooFewChoices)
        #expect(code(multiple, .array(["ml", "db", "pl", "os"].map(JSONValue.string))) == .tooManyChoices)
        #expect(accepted(multiple, .array(["ml", "db", "pl"].map(JSONValue.string))) != nil)
    }

    @Test("countries are currently assigned ISO 3166-1 alpha-2 codes, upper-cased")
    func countries() {
        let field = FormField(key: "a", type: .country, label: en)
        #expect(Countries.assigned.count == 249)
        #expect(accepted(field, .string("cn")) == .string("CN"))
        for good in ["CN", "HK", "MO", "TW", "US", "SS", "BQ", "AX"] {
            #expect(accepted(field, .string(good)) != nil, "\(good)")
        }
        for bad in ["XK", "UK", "EU", "YU", "AN", "CHN", "C", "ZZ"] {
            #expect(code(field, .string(bad)) == .invalidCountry, "\(bad)")
        }
    }

    @Test("a file answer is a well-formed upload reference within the field's size and types")
    func files() {
        let field = FormField(key: "a", type: .file, label: en,
                              file: .init(maxBytes: 5000, allowedTypes: ["application/pdf", "image/jpeg", "Image/PNG"]))
        #expect(accepted(field, upload()) == upload())
        #expect(accepted(field, upload(type: "Image/PNG; charset=binary", name: "照片.png")) == upload(type: "image/png", name: "照片.png"))
        #expect(accepted(field, upload(size: 5000)) != nil)
        #expect(code(field, upload(size: 5001)) == .fileTooLarge)
        #expect(code(field, upload(type: "application/zip")) == .fileTypeNotAllowed)
        let malformed: [JSONValue] = [
            upload(key: "sha256-" + String(repeating: "AB", count: 32)),
            upload(key: "sha256-" + String(repeating: "a", count: 63)),
            upload(key: "md5-" + String(repeating: "a", count: 64)),
            upload(type: "pdf"),
            upload(size: 0),
            upload(size: 1.5),
            upload(name: "../etc/passwd"),
            upload(name: "a\\b.pdf"),
            upload(name: ""),
            .object(["blobKey": .string(blobKey), "contentType": .string("application/pdf")]),
        ]
        for answer in malformed {
            #expect(code(field, answer) == .invalidFileReference, "\(answer)")
        }
    }

    @Test("answers to fields hidden by showIf are dropped without error, and required applies only to shown fields")
    func hiddenFields() throws {
        let form = FormDefinitionTests.conference
        let base: [String: JSONValue] = [
            "full_name": .string("Zhang San"), "email": .string("zs@pku.edu.cn"), "role": .string("faculty"),
            "country": .string("US"), "topics": .array([.string("db")]),
        ]
        var answers = base
        answers["student_card"] = .string("not even a file")
        answers["ml_track"] = .string("no such track")
        answers["id_number"] = .string("110101199003071234")
        let clean = try form.validate(answers: answers).get()
        #expect(clean.values.keys.sorted() == ["country", "email", "full_name", "role", "topics"])

        var student = base
        student["role"] = .string("student")
        guard case .failure(let errors) = form.validate(answers: student) else { Issue.record("no student card"); return }
        #expect(errors.map(\.field) == ["student_card"])
        #expect(errors["student_card"]?.code == .required)

        var shown = base
        shown["topics"] = .array([.string("db"), .string("ml")])
        shown["ml_track"] = .string("nlp")
        shown["country"] = .string("cn")
        shown["id_number"] = .string(" 110101199003071234 ")
        let cleanShown = try form.validate(answers: shown).get()
        #expect(cleanShown.text("ml_track") == "nlp")
        #expect(cleanShown.text("id_number") == "110101199003071234")
    }

    @Test("a field hidden because the field it depends on is hidden or invalid stays hidden")
    func hiddenChains() throws {
        let form = FormDefinition(fields: [
            FormField(key: "attend", type: .singleChoice, label: en, options: [option("yes"), option("no")]),
            FormField(key: "meal", type: .singleChoice, label: en, options: [option("veg"), option("any")],
                      showIf: .init(field: "attend", equals: ["yes"])),
            FormField(key: "allergy", type: .text, label: en, required: true, showIf: .init(field: "meal", equals: ["any"])),
        ])
        let hidden = try form.validate(answers: ["attend": .string("no"), "meal": .string("any")]).get()
        #expect(hidden.values == ["attend": .string("no")])
        guard case .failure(let errors) = form.validate(answers: ["attend": .string("yes"), "meal": .string("fish")]) else {
            Issue.record("fish accepted"); return
        }
        #expect(errors.map(\.code) == [.unknownOption])
        guard case .failure(let missing) = form.validate(answers: ["attend": .string("yes"), "meal": .string("any")]) else {
            Issue.record("allergy not asked"); return
        }
        #expect(missing.map { "\($0.field) \($0.code.rawValue)" } == ["allergy required"])
    }

    @Test("every rejected answer is reported in form order, with stable codes and English messages")
    func allErrors() {
        let answers: [String: JSONValue] = [
            "full_name": .string("Z"), "email": .string("not-mail"), "phone": .string("12"), "age": .string("old"),
            "birthDate": .string("1990-02-30"), "role": .string("student"),
            "student_card": upload(type: "text/plain"), "topics": .array(["ml", "db", "pl"].map(JSONValue.string)),
            "country": .string("XK"), "extra": .bool(true),
        ]
        guard case .failure(let errors) = FormDefinitionTests.conference.validate(answers: answers) else {
            Issue.record("accepted"); return
        }
        #expect(errors.map { "\($0.field) \($0.code.rawValue)" } == [
            "full_name too_short", "email invalid_email", "phone invalid_phone", "age not_a_number", "birthDate invalid_date",
            "student_card file_type_not_allowed", "topics too_many_choices", "country invalid_country", "extra unknown_field",
        ])
        #expect(errors["full_name"]?.message == "at least 2 characters")
        let error = errors.conveneError
        #expect(error.code == "registration.invalid_answers")
        #expect(error.details?["country"] == "invalid_country: \"XK\" is not an ISO 3166-1 alpha-2 country code")
        #expect(Set(FieldError.Code.allCases.map(\.rawValue)) == [
            "required", "unknown_field", "wrong_type", "too_short", "too_long", "invalid_email", "invalid_phone", "not_a_number",
            "out_of_range", "invalid_date", "unknown_option", "too_many_choices", "too_few_choices", "invalid_country",
            "file_too_large", "file_type_not_allowed", "invalid_file_reference",
        ])
    }

    @Test("clean answers encode as a plain object and give typed values back")
    func cleanAnswers() throws {
        let answers: [String: JSONValue] = [
            "full_name": .string(" Ada "), "email": .string("ada@Example.org"), "role": .string("student"), "age": .number(36),
            "student_card": upload(), "topics": .array([.string("pl")]), "country": .string("gb"),
        ]
        let clean = try FormDefinitionTests.conference.validate(answers: answers).get()
        #expect(clean.text("full_name") == "Ada")
        #expect(clean.number("age") == 36)
        #expect(clean.choices("topics") == ["pl"])
        #expect(clean.file("student_card") == FileReference(blobKey: blobKey, contentType: "application/pdf", size: 1000,
                                                            fileName: "abstract.pdf"))
        #expect(clean.files.keys.sorted() == ["student_card"])
        let encoded = try ConveneJSON.encode(clean)
        let object = try ConveneJSON.decode([String: JSONValue].self, from: encoded)
        #expect(object["country"] == .string("GB"))
        #expect(try ConveneJSON.decode(CleanAnswers.self, from: encoded) == clean)
    }
}
