import Foundation
import Mustache

/// A message rendered for one recipient: subject and plain text always, HTML when the template
/// has it.
struct RenderedMessage: Sendable, Equatable {
    var subject: String
    var text: String
    var html: String?
    /// For IM robots; templates without a markdown part use the text.
    var markdown: String?
    /// The locale actually used (after fallback).
    var locale: String
}

/// The shipped templates (`Templates/<key>/<locale>.<part>.mustache`), chosen by the recipient's
/// locale with a fallback to English.
struct TemplateLibrary: Sendable {
    static let fallbackLocale = "en"
    static let requiredLocales = ["zh-CN", "en"]

    struct Missing: Error, Equatable, CustomStringConvertible {
        var key: String
        var description: String { "no template \(key)" }
    }

    private let library: MustacheLibrary
    /// key → locales that have at least a subject and a text part.
    let locales: [String: Set<String>]

    /// Loads every template under `directory`. Subject and text parts are registered as TEXT so
    /// values are not HTML-escaped there; HTML parts keep Mustache's escaping.
    init(directory: String) throws {
        var library = MustacheLibrary()
        var locales: [String: Set<String>] = [:]
        var parts: [String: Set<String>] = [:]
        let keys = try FileManager.default.contentsOfDirectory(atPath: directory).filter {
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: directory + "/" + $0, isDirectory: &isDirectory) && isDirectory.boolValue
        }
        for key in keys {
            for file in try FileManager.default.contentsOfDirectory(atPath: "\(directory)/\(key)") where file.hasSuffix(".mustache") {
                let pieces = file.dropLast(".mustache".count).split(separator: ".")
                guard pieces.count == 2, ["subject", "text", "html", "markdown"].contains(pieces[1]) else { continue }
                let (locale, part) = (String(pieces[0]), String(pieces[1]))
                var source = try String(contentsOfFile: "\(directory)/\(key)/\(file)", encoding: .utf8)
                if part == "subject" { source = source.trimmingCharacters(in: .whitespacesAndNewlines) }
                if part != "html" { source = "{{% CONTENT_TYPE: TEXT}}" + source }
                try library.register(source, named: "\(key)/\(locale).\(part)")
                parts["\(key)/\(locale)", default: []].insert(part)
            }
        }
        for (name, found) in parts where found.isSuperset(of: ["subject", "text"]) {
            let split = name.split(separator: "/", maxSplits: 1)
            locales[String(split[0]), default: []].insert(String(split[1]))
        }
        self.library = library
        self.locales = locales
    }

    /// Exact locale, then same language, then English, then any.
    func resolveLocale(_ requested: String?, for key: String) -> String? {
        guard let available = locales[key], !available.isEmpty else { return nil }
        if let requested {
            if available.contains(requested) { return requested }
            let language = requested.split(whereSeparator: { $0 == "-" || $0 == "_" }).first.map(String.init)?.lowercased()
            if let match = available.sorted().first(where: { $0.lowercased().hasPrefix((language ?? "") + "-") || $0.lowercased() == language }) {
                return match
            }
        }
        return available.contains(Self.fallbackLocale) ? Self.fallbackLocale : available.sorted().first
    }

    func render(_ key: String, locale requested: String?, data: [String: Any]) throws -> RenderedMessage {
        guard let locale = resolveLocale(requested, for: key) else { throw Missing(key: key) }
        let context = Self.templateContext(data, locale: locale)
        func part(_ name: String) -> String? { library.render(context, withTemplate: "\(key)/\(locale).\(name)") }
        guard let subject = part("subject"), let text = part("text") else { throw Missing(key: key) }
        return RenderedMessage(subject: subject.trimmingCharacters(in: .whitespacesAndNewlines), text: text,
                               html: part("html"), markdown: part("markdown"), locale: locale)
    }

    /// What a template sees: the data, and what Mustache cannot work out itself (it has no
    /// "is empty", no equality and no formatting). At every level:
    /// - `has<Key>` for every non-empty list (`joinLinks` → `hasJoinLinks`), so a template can
    ///   print a heading only when there is something under it;
    /// - `<key>Is.<value>` for every value that is a code (lower-case letters, digits and `_`):
    ///   `status: "pending_review"` → `{{#statusIs.pending_review}}`, for wording by value;
    /// - `display` in every money object (`amountMinor` and `currency`), formatted for the
    ///   message's locale by `MoneyDisplay`: `{{price.display}}` → `¥1,280.00`;
    /// - an empty or blank text (or JSON null) renders as nothing and is false in a section, so
    ///   `{{#comment}}…{{/comment}}` is left out for `"comment": ""`.
    /// A key the data has itself is never replaced.
    static func templateContext(_ data: [String: Any], locale: String) -> [String: Any] {
        var result: [String: Any] = [:]
        func derive(_ key: String, _ value: Any) {
            if data[key] == nil { result[key] = value }
        }
        for (key, value) in data {
            switch value {
            case let list as [Any]:
                derive("has" + key.prefix(1).uppercased() + key.dropFirst(), !list.isEmpty)
                result[key] = list.map { ($0 as? [String: Any]).map { templateContext($0, locale: locale) } ?? $0 }
            case let nested as [String: Any]:
                result[key] = templateContext(nested, locale: locale)
            case let text as String where text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty:
                result[key] = Blank()
            case let text as String:
                result[key] = text
                if isCode(text) { derive(key + "Is", [text: true]) }
            default:
                result[key] = value
            }
        }
        if let display = MoneyDisplay.format(data, locale: locale) { derive("display", display) }
        return result
    }

    /// `pending_review`, `wechat_pay`: what a contract sends as one of a fixed set of values.
    private static func isCode(_ text: String) -> Bool {
        guard text.utf8.count <= 64, let first = text.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    /// A value that is not there: renders as nothing, and a section over it is skipped.
    struct Blank: MustacheCustomRenderable {
        var renderText: String { "" }
        var isNull: Bool { true }
    }
}
