import Contracts
import Foundation
@testable import Gateway
import HTTPClient
import Hummingbird
import Messaging
import Persistence
import Testing
import TestSupport
import Yams

extension EndToEnd {
/// docs/openapi.yaml against the gateway, both ways: every documented operation is served by the
/// running gateway (and needs a token exactly when it says so, and honours `Idempotency-Key`
/// exactly when it says so), and every route the gateway's router registers is documented.
@Suite("docs/openapi.yaml matches the gateway", .serialized)
struct OpenAPITests {
    var stack: GatewayStack { get throws { try #require(GatewayStack.current, "the suite trait starts the stack") } }

    /// Stands in for every path parameter: a well-formed id that names nothing.
    static let placeholder = "00000000-0000-0000-0000-000000000000"

    /// Whether `response` is the router's own 404 for a route it does not have, as opposed to a
    /// handler's 404 for a resource it does not have (same status and code, another detail).
    static func isUnknownRoute(_ response: HTTPClient.HTTPResponse) -> Bool {
        response.status == 404 && response.problem?.code == Problem.unknownRoute.code
            && response.problem?.detail == Problem.unknownRoute.detail
    }

    @Test("the router's 404 for an unknown route is told apart from a handler's 404")
    func unknownRouteIsRecognisable() async throws {
        let stack = try stack
        #expect(Self.isUnknownRoute(try await stack.call(.get, "/v1/no-such-endpoint")))
        #expect(Self.isUnknownRoute(try await stack.call(.delete, "/v1/conferences/\(Self.placeholder)")),
                "a method the path does not serve is unknown too")
        let missing = try await stack.call(.get, "/v1/conferences/not-a-uuid")
        #expect(missing.status == 404 && missing.problem?.code == "gateway.not_found")
        #expect(!Self.isUnknownRoute(missing), "a handler's 404: \(missing.bodyString)")
    }

    @Test("every documented operation is served; one with bearer security answers 401 without a token, a public one never asks for it")
    func documentedOperationsAreServed() async throws {
        let stack = try stack
        let document = try OpenAPIDocument.load()
        #expect(document.operations.count > 50, "the whole API is documented")
        for operation in document.operations {
            let response = try await stack.call(operation.method, operation.path(filledWith: Self.placeholder))
            #expect(!Self.isUnknownRoute(response), "\(operation) is documented but the gateway has no such route")
            if operation.requiresBearer {
                #expect(response.status == 401 && response.problem?.code == "gateway.token_required",
                        "\(operation) declares bearer security but answered \(response.status) without a token: \(response.bodyString)")
            } else {
                #expect(response.problem?.code != "gateway.token_required",
                        "\(operation) declares no security but asks for a token")
            }
        }
    }

    @Test("Idempotency-Key is documented on exactly the POSTs that honour it")
    func idempotencyKeys() async throws {
        let stack = try stack
        let document = try OpenAPIDocument.load()
        let token = try await stack.token(account: UUID().uuidString.lowercased())
        for operation in document.operations {
            guard operation.method == .post else {
                // The middleware looks at POST only.
                #expect(!operation.declaresIdempotencyKey, "\(operation) documents an Idempotency-Key that only POSTs honour")
                continue
            }
            // A key with a space is refused by the middleware before any handler runs, so nothing is created.
            let response = try await stack.call(operation.method, operation.path(filledWith: Self.placeholder), token: token,
                                                headers: [("Idempotency-Key", "not a key")])
            let honoured = response.status == 400 && response.problem?.code == "gateway.invalid_idempotency_key"
            #expect(honoured == operation.declaresIdempotencyKey,
                    "\(operation): the gateway \(honoured ? "honours" : "ignores") Idempotency-Key, the document says otherwise")
        }
    }

    @Test("an API key is admitted exactly where the document lists the apiKey scheme, and needs the scope it names there")
    func apiKeyScopes() async throws {
        let stack = try stack
        let document = try OpenAPIDocument.load()
        let organization = "org-" + UUID().uuidString.prefix(8).lowercased()
        let root = try await stack.token(account: UUID().uuidString.lowercased(), organization: organization, roles: [.systemAdmin])
        let created = try await stack.call(.post, "/v1/organizations", token: root,
                                           body: #"{"id":"\#(organization)","name":"OpenAPI keys"}"#)
        #expect(created.status == 201)
        func key(_ scopes: [String]) async throws -> String {
            let body = String(decoding: try JSONSerialization.data(withJSONObject: ["name": "openapi", "scopes": scopes]), as: UTF8.self)
            let answer = try await stack.call(.post, "/v1/organizations/\(organization)/api-keys", token: root, body: body)
            return try #require(try? answer.decode(APIKeyRoutes.Created.self), "\(answer.bodyString)").secret
        }
        let everything = try await key(APIKeyScope.names)
        var allBut: [String: String] = [:]
        for scope in APIKeyScope.names { allBut[scope] = try await key(APIKeyScope.names.filter { $0 != scope }) }

        var documentedScopes: Set<String> = []
        for operation in document.operations where operation.requiresBearer {
            let path = operation.path(filledWith: Self.placeholder, organization: organization)
            let answer = try await stack.call(operation.method, path, token: everything)
            guard let scope = operation.apiKeyScope else {
                #expect(answer.status == 403 && answer.problem?.code == "gateway.account_required",
                        "\(operation) does not list apiKey, yet a key got \(answer.status): \(answer.bodyString)")
                continue
            }
            documentedScopes.insert(scope)
            #expect(APIKeyScope(rawValue: scope) != nil, "\(operation) names an unknown scope \(scope)")
            #expect(![401, 403].contains(answer.status), "\(operation) lists apiKey \(scope), yet a key with every scope got \(answer.status)")
            let without = try await stack.call(operation.method, path, token: allBut[scope] ?? "")
            #expect(without.status == 403 && without.problem?.code == "gateway.insufficient_scope",
                    "\(operation) needs \(scope), yet a key without it got \(without.status): \(without.bodyString)")
        }
        #expect(documentedScopes == Set(APIKeyScope.names), "every scope opens some operation")
    }

    @Test("every route the gateway's router registers is documented, and nothing else")
    func registeredRoutesAreDocumented() async throws {
        let document = try OpenAPIDocument.load()
        let documented = Set(document.operations.map(\.description))
        let registered = try await Self.registeredRoutes()
        #expect(registered.count > 50)
        #expect(registered.subtracting(documented).isEmpty,
                "registered but not in docs/openapi.yaml: \(registered.subtracting(documented).sorted())")
        #expect(documented.subtracting(registered).isEmpty,
                "in docs/openapi.yaml but not registered: \(documented.subtracting(registered).sorted())")
    }

    @Test("the document is consistent with what every route shares: path parameters, 401, JSON body checks, references")
    func documentIsConsistent() throws {
        let document = try OpenAPIDocument.load()
        var operationIds: Set<String> = []
        for operation in document.operations {
            let id = try #require(operation.object["operationId"] as? String, "\(operation) has an operationId")
            #expect(operationIds.insert(id).inserted, "\(operation): operationId \(id) is used twice")
            let parameters = try operation.parameters(in: document)
            let inPath = Set(parameters.filter { $0["in"] as? String == "path" }.compactMap { $0["name"] as? String })
            #expect(inPath == operation.templateNames, "\(operation) declares the path parameters \(inPath.sorted())")
            let statuses = Set(operation.responses.keys)
            if operation.requiresBearer { #expect(statuses.contains("401"), "\(operation) lists 401") }
            if operation.declaresIdempotencyKey {
                #expect(statuses.isSuperset(of: ["400", "409", "422"]), "\(operation) lists the Idempotency-Key's 400, 409 and 422")
            }
            // Every JSON body goes through JSONBody: 400, 413, 415 and 422, and no undocumented field.
            if let schema = operation.jsonBodySchema {
                #expect(statuses.isSuperset(of: ["400", "413", "415", "422"]), "\(operation) lists JSONBody's 400, 413, 415 and 422")
                let resolved = try document.resolve(schema)
                #expect(resolved["additionalProperties"] as? Bool == false,
                        "\(operation): the gateway refuses unknown fields, so its body schema has additionalProperties: false")
            }
        }
        for reference in document.references {
            #expect((try? document.resolve(["$ref": reference])) != nil, "\(reference) does not resolve")
        }
    }

    /// The gateway's router, built in-process as `makeGatewayServer` builds it, and its routes as
    /// `METHOD /path/{param}`. Listing routes runs no handler: the pool never connects, and the
    /// RPC client's connection to the test broker is closed again.
    static func registeredRoutes() async throws -> Set<String> {
        let amqp = try TestStack.amqp(name: "openapi-routes")
        let publisher = Publisher(.init(amqp: amqp), logger: TestStack.logger)
        let rpc = RPCClient(amqp: amqp, publisher: publisher, source: "openapi-test", logger: TestStack.logger)
        let running = Task { try await rpc.run() }
        let settings = try GatewaySettings(["GATEWAY_TOKEN_SECRET": String(repeating: "k", count: TokenSettings.minimumSecretBytes)])
        let pool = PGPool(.init(url: "postgres://127.0.0.1:1/unused", schema: "unused", size: 1), logger: TestStack.logger)
        let identity = IdentityService(
            pool: pool, hasher: PasswordHasher(cost: settings.passwordHashCost),
            issuer: TokenIssuer(settings: settings.token, lifetime: settings.accessTokenLifetime),
            sessions: SessionStore(lifetime: 60), logger: TestStack.logger)
        let idempotency = IdempotencyMiddleware(pool: pool, store: IdempotencyStore(),
                                                maximumBodyBytes: PaymentRoutes.maximumStatementBytes)
        let router = makeGatewayRouter(settings: settings, rpc: rpc, verifier: TokenVerifier(settings: settings.token),
                                       identity: identity, idempotency: idempotency,
                                       rateLimits: RateLimits(callersPerMinute: 0, anonymousPerMinute: 0))
        let routes = Set(router.routes.map { "\($0.method.rawValue) \($0.path)" })
        running.cancel()
        _ = await running.result
        await publisher.shutdown(grace: .seconds(1))
        return routes
    }
}
}

/// The parts of an OpenAPI document these tests read, parsed with Yams.
struct OpenAPIDocument {
    struct Operation: CustomStringConvertible {
        var method: HTTPMethod
        /// The path template, e.g. `/v1/conferences/{id}`.
        var template: String
        var object: [String: Any]
        var pathItem: [String: Any]
        var requiresBearer: Bool

        var description: String { "\(method.rawValue) \(template)" }

        /// The names in the template's braces.
        var templateNames: Set<String> {
            Set(template.split(separator: "/").filter { $0.hasPrefix("{") && $0.hasSuffix("}") }.map { String($0.dropFirst().dropLast()) })
        }

        /// The scope the operation's `security` names for the `apiKey` scheme, if it admits API keys.
        var apiKeyScope: String? {
            (object["security"] as? [Any] ?? []).lazy.compactMap { (($0 as? [String: Any])?["apiKey"] as? [Any])?.first as? String }.first
        }

        /// The template with `{org}` replaced by `organization` and every other parameter by `value`.
        func path(filledWith value: String, organization: String) -> String {
            "/" + template.split(separator: "/").map {
                $0 == "{org}" ? organization : $0.hasPrefix("{") && $0.hasSuffix("}") ? value : String($0)
            }.joined(separator: "/")
        }

        /// The template with every parameter replaced by `value`.
        func path(filledWith value: String) -> String {
            "/" + template.split(separator: "/").map { $0.hasPrefix("{") && $0.hasSuffix("}") ? value : String($0) }.joined(separator: "/")
        }

        var responses: [String: Any] { object["responses"] as? [String: Any] ?? [:] }

        /// The path item's parameters and the operation's, references resolved.
        func parameters(in document: OpenAPIDocument) throws -> [[String: Any]] {
            let declared = (pathItem["parameters"] as? [Any] ?? []) + (object["parameters"] as? [Any] ?? [])
            return try declared.map { try document.resolve($0 as? [String: Any] ?? [:]) }
        }

        var declaresIdempotencyKey: Bool {
            let declared = (pathItem["parameters"] as? [Any] ?? []) + (object["parameters"] as? [Any] ?? [])
            return declared.contains { ($0 as? [String: Any])?["$ref"] as? String == "#/components/parameters/IdempotencyKey" }
        }

        /// The schema of an `application/json` request body, if the operation takes one.
        var jsonBodySchema: [String: Any]? {
            let content = (object["requestBody"] as? [String: Any])?["content"] as? [String: Any]
            return (content?["application/json"] as? [String: Any])?["schema"] as? [String: Any]
        }
    }

    let root: [String: Any]
    let operations: [Operation]

    static let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    static var url: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/openapi.yaml").standardized
    }

    static func load() throws -> OpenAPIDocument {
        let text = try String(contentsOf: url, encoding: .utf8)
        let root = try #require(normalized(try Yams.load(yaml: text)) as? [String: Any], "docs/openapi.yaml is a mapping")
        return try OpenAPIDocument(root: root)
    }

    init(root: [String: Any]) throws {
        self.root = root
        let paths = try #require(root["paths"] as? [String: Any], "the document has paths")
        let defaultBearer = Self.isBearer(root["security"])
        var operations: [Operation] = []
        for (template, item) in paths.sorted(by: { $0.key < $1.key }) {
            let item = try #require(item as? [String: Any], "\(template) is a mapping")
            for method in Self.methods {
                guard let object = item[method] as? [String: Any] else { continue }
                let bearer = object["security"].map(Self.isBearer) ?? defaultBearer
                operations.append(Operation(method: HTTPMethod(rawValue: method.uppercased()), template: template, object: object,
                                            pathItem: item, requiresBearer: bearer))
            }
        }
        self.operations = operations
    }

    /// `security: [{bearer: []}]` requires the token; `security: []` requires nothing.
    static func isBearer(_ security: Any?) -> Bool {
        (security as? [Any] ?? []).contains { ($0 as? [String: Any])?["bearer"] != nil }
    }

    /// `value` itself, or the object its `$ref` (`#/components/…`) points at, followed until it is no reference.
    func resolve(_ value: [String: Any]) throws -> [String: Any] {
        var current = value
        var seen: Set<String> = []
        while let reference = current["$ref"] as? String {
            guard seen.insert(reference).inserted, reference.hasPrefix("#/") else { throw Unresolved(reference: reference) }
            var node: Any = root
            for token in reference.dropFirst(2).split(separator: "/") {
                let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
                guard let next = (node as? [String: Any])?[key] else { throw Unresolved(reference: reference) }
                node = next
            }
            guard let object = node as? [String: Any] else { throw Unresolved(reference: reference) }
            current = object
        }
        return current
    }

    struct Unresolved: Error, CustomStringConvertible {
        var reference: String
        var description: String { "\(reference) does not resolve" }
    }

    /// Every `$ref` in the document.
    var references: [String] {
        func collect(_ value: Any, into found: inout [String]) {
            if let object = value as? [String: Any] {
                if let reference = object["$ref"] as? String { found.append(reference) }
                for child in object.values { collect(child, into: &found) }
            } else if let array = value as? [Any] {
                for child in array { collect(child, into: &found) }
            }
        }
        var found: [String] = []
        collect(root, into: &found)
        return found
    }

    /// Yams' mappings (`[AnyHashable: Any]`) as `[String: Any]`, all the way down; status codes
    /// written without quotes become strings like the quoted ones.
    static func normalized(_ value: Any?) -> Any? {
        switch value {
        case let mapping as [AnyHashable: Any]:
            var object: [String: Any] = [:]
            for (key, child) in mapping { object["\(key.base)"] = normalized(child) }
            return object
        case let sequence as [Any]:
            return sequence.compactMap(normalized)
        default:
            return value
        }
    }
}
