import Contracts
import Foundation
import Hummingbird

/// The organization's meeting rooms, for its organizers: a meeting in a room holds it for its
/// time (scheduling refuses a second one with 409 `scheduling.room_conflict`).
struct RoomRoutes {
    let service: ServiceClient

    struct CreateBody: JSONRequestBody {
        var name: String
        var capacity: Int
        var location: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case name, capacity, location }
        typealias Fields = CodingKeys
    }

    /// Only the fields given change; `location: ""` removes it.
    struct PatchBody: JSONRequestBody {
        var name: String?
        var capacity: Int?
        var location: String?
        typealias CodingKeys = CreateBody.CodingKeys
        typealias Fields = CodingKeys
    }

    func register(on routes: RouterGroup<GatewayRequestContext>) {
        routes.get("organizations/:org/rooms") { _, context -> Response in
            let organizationId = try context.organizerOrganization(.meetingsRead)
            let rooms = try await service.call(ListRooms(), as: MeetingRoomList.self, organizationId: organizationId, context: context)
            return try JSONResponse.make(rooms)
        }
        routes.post("organizations/:org/rooms") { request, context -> Response in
            let organizationId = try context.organizerOrganization(.meetingsWrite)
            let body = try await JSONBody.decode(CreateBody.self, from: request)
            let room = try await service.call(CreateRoom(name: body.name, capacity: body.capacity, location: body.location),
                                              as: MeetingRoom.self, organizationId: organizationId, context: context)
            return try JSONResponse.make(room, status: .created, headers: [
                .location: "/v1/organizations/\(organizationId.pathEscaped)/rooms/\(room.id)"])
        }
        routes.patch("organizations/:org/rooms/:id") { request, context -> Response in
            let organizationId = try context.organizerOrganization(.meetingsWrite)
            let id = try context.resourceId("id", kind: "room")
            let body = try await JSONBody.decode(PatchBody.self, from: request)
            let room = try await service.call(UpdateRoom(id: id, name: body.name, capacity: body.capacity, location: body.location),
                                              as: MeetingRoom.self, organizationId: organizationId, context: context)
            return try JSONResponse.make(room)
        }
    }
}
