import Foundation
import HTTPClient
import TestSupport

/// The local contract server's admin side (compose/local/contracts): what a developer does in
/// the DingTalk or WeCom client, and a receiver of our webhooks, plus what each received.
struct ContractServer {
    let base: String
    let http = CurlHTTPClient()

    init() throws {
        base = try TestStack.environment("CONTRACTS_URL")
    }

    @discardableResult
    func post(_ path: String, _ body: [String: Any]) async throws -> [String: Any] {
        let response = try await http.execute(HTTPRequest(
            method: .post, url: base + path, headers: [("Content-Type", "application/json")],
            body: Array(try JSONSerialization.data(withJSONObject: body))))
        guard (200..<300).contains(response.status) else {
            throw ContractServerError(description: "\(path): HTTP \(response.status) \(response.bodyString)")
        }
        return (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]) ?? [:]
    }

    func get(_ path: String) async throws -> [String: Any] {
        let response = try await http.execute(HTTPRequest(url: base + path))
        return (try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]) ?? [:]
    }

    /// A DingTalk robot; returns its webhook address as the DingTalk client shows it.
    func dingTalkRobot(token: String, secret: String?) async throws -> String {
        var body: [String: Any] = ["accessToken": token]
        if let secret { body["secret"] = secret }
        try await post("/_admin/dingtalk/robots", body)
        return try TestStack.environment("DINGTALK_ROBOT_URL") + "?access_token=" + token
    }

    func weComRobot(key: String) async throws -> String {
        try await post("/_admin/wecom/robots", ["key": key])
        return try TestStack.environment("WECOM_ROBOT_URL") + "?key=" + key
    }

    func dingTalkMessages(_ token: String) async throws -> [[String: Any]] {
        try await get("/_admin/dingtalk/robots/\(token)/messages")["messages"] as? [[String: Any]] ?? []
    }

    func weComMessages(_ key: String) async throws -> [[String: Any]] {
        try await get("/_admin/wecom/robots/\(key)/messages")["messages"] as? [[String: Any]] ?? []
    }

    /// A receiver at `<base>/hooks/<name>` that checks our signature with `secret`.
    func webhookEndpoint(_ name: String, secret: String, respond: [Int] = [], redirectTo: String? = nil) async throws {
        var body: [String: Any] = ["name": name, "secret": secret, "respond": respond]
        if let redirectTo { body["redirectTo"] = redirectTo }
        try await post("/_admin/webhooks/endpoints", body)
    }

    func webhookRequests(_ name: String) async throws -> [[String: Any]] {
        try await get("/_admin/webhooks/endpoints/\(name)/requests")["requests"] as? [[String: Any]] ?? []
    }
}

struct ContractServerError: Error, CustomStringConvertible {
    let description: String
}
