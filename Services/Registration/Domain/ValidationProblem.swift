import Contracts

/// One thing wrong with something an organizer configured (a form definition, a capacity or
/// refund policy): where (`fields[2].showIf.field`), a stable code (`show_if_forward`) and an
/// English message. Validators return every problem they find, not just the first.
struct ValidationProblem: Codable, Sendable, Equatable, CustomStringConvertible {
    var path: String
    var code: String
    var message: String

    var description: String { "\(path): \(code): \(message)" }
}

extension ConveneError {
    /// What a handler answers when an organizer's configuration does not validate: the code
    /// names what was being checked (`registration.invalid_form`), the details map each path to
    /// `code: message` (a path with several problems lists them one per line).
    static func invalid(_ code: String, _ what: String, problems: [ValidationProblem]) -> ConveneError {
        var details: [String: String] = [:]
        for problem in problems {
            let line = "\(problem.code): \(problem.message)"
            details[problem.path] = details[problem.path].map { "\($0)\n\(line)" } ?? line
        }
        let count = problems.count == 1 ? "1 problem" : "\(problems.count) problems"
        return ConveneError(code: code, message: "\(what) has \(count)", details: details)
    }
}
