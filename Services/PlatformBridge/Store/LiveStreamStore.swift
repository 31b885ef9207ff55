import Contracts
import Foundation
import Persistence
import Secrets

/// SQL for meetings' live streams: the push address sealed (bound to organization and meeting).
struct LiveStreamStore: Sendable {
    let secrets: SecretBox

    struct Push: Codable {
        var pushUrl: String
        var streamKey: String?
    }

    func set(_ request: SetLiveStream, organizationId: String, in tx: Transaction) async throws -> LiveStreamView {
        let sealed = try secrets.seal(String(decoding: try ConveneJSON.encode(Push(pushUrl: request.pushUrl,
                                                                                  streamKey: request.streamKey)), as: UTF8.self),
                                      context: "platform-bridge.live_stream:\(organizationId):\(request.meetingId)")
        let row = try await tx.query("""
            INSERT INTO live_streams (organization_id, meeting_id, provider, push_sealed, watch_url, set_by, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, now())
            ON CONFLICT (organization_id, meeting_id) DO UPDATE
               SET provider = EXCLUDED.provider, push_sealed = EXCLUDED.push_sealed, watch_url = EXCLUDED.watch_url,
                   set_by = EXCLUDED.set_by, updated_at = now()
            RETURNING updated_at
            """, [organizationId, request.meetingId, request.provider, sealed, request.watchUrl, request.setBy]).first!
        return LiveStreamView(meetingId: request.meetingId, provider: request.provider, watchUrl: request.watchUrl,
                              pushConfigured: true, updatedAt: try row.date("updated_at"))
    }

    func get(meetingId: String, organizationId: String, in tx: Transaction) async throws -> LiveStreamView? {
        try await tx.query("""
            SELECT provider, watch_url, updated_at FROM live_streams WHERE organization_id = $1 AND meeting_id = $2
            """, [organizationId, meetingId]).first.map {
            LiveStreamView(meetingId: meetingId, provider: try $0.string("provider"), watchUrl: try $0.string("watch_url"),
                           pushConfigured: true, updatedAt: try $0.date("updated_at"))
        }
    }
}
