import Contracts
import Hummingbird

/// The signed-in user's in-app inbox. The account is always the token's `sub`, never the request's.
struct InboxRoutes {
    let service: ServiceClient

    struct MarkReadBody: JSONRequestBody {
        /// The items to mark; absent: all of the account's.
        var ids: [String]?
        enum CodingKeys: String, CodingKey, CaseIterable { case ids }
        typealias Fields = CodingKeys
    }

    func register(on routes: RouterGroup<GatewayRequestContext>) {
        // GET /v1/me/inbox?limit=20&before=<cursor>&unread=true → InboxPage
        routes.get("me/inbox") { request, context -> Response in
            let principal = try context.requirePrincipal()
            let query = QueryParameters(request)
            let list = ListInbox(accountId: principal.accountId, limit: try query.int("limit", default: 20, in: 1...100),
                                 before: try query.string("before"), unreadOnly: try query.bool("unread"))
            return try await service.respond(list, as: InboxPage.self, organizationId: principal.organizationId, context: context)
        }
        // GET /v1/me/inbox/unread-count → {"unread": n}
        routes.get("me/inbox/unread-count") { _, context -> Response in
            let principal = try context.requirePrincipal()
            return try await service.respond(CountUnread(accountId: principal.accountId), as: UnreadCount.self,
                                             organizationId: principal.organizationId, context: context)
        }
        // POST /v1/me/inbox/read {"ids": [...]} or {} → {"marked": n}
        routes.post("me/inbox/read") { request, context -> Response in
            let principal = try context.requirePrincipal()
            let body = try await JSONBody.decode(MarkReadBody.self, from: request)
            return try await service.respond(MarkRead(accountId: principal.accountId, ids: body.ids), as: MarkedRead.self,
                                             organizationId: principal.organizationId, context: context)
        }
    }
}
