import Contracts
import Foundation
import Persistence

enum LiveStreamRules {
    static func check(_ request: SetLiveStream) throws {
        var problems: [String: String] = [:]
        if !LiveStreamProvider.all.contains(request.provider) { problems["provider"] = "must be bilibili or wechat_channels" }
        let push = URLComponents(string: request.pushUrl)
        if !["rtmp", "rtmps"].contains(push?.scheme?.lowercased() ?? "") || push?.host?.isEmpty != false
            || request.pushUrl.count > 2048 {
            problems["pushUrl"] = "must be an rtmp:// or rtmps:// address"
        }
        if let key = request.streamKey, key.isEmpty || key.count > 512 { problems["streamKey"] = "must be 1 to 512 characters" }
        let watch = URLComponents(string: request.watchUrl)
        if watch?.scheme?.lowercased() != "https" || watch?.host?.isEmpty != false || request.watchUrl.count > 2048 {
            problems["watchUrl"] = "must be an https:// link"
        }
        guard problems.isEmpty else {
            throw ConveneError(code: "platform.invalid_live_stream", message: "the live stream is invalid", details: problems)
        }
    }
}

/// `platform-bridge.set_live_stream`: the push address sealed, the watch link announced.
struct SetLiveStreamHandler: MessageHandler {
    let streams: LiveStreamStore
    let service: String
    let meetings = ProvisionStore()
    var messageType: String { "\(service).set_live_stream" }

    func handle(_ message: Envelope<SetLiveStream>, context: HandlerContext) async throws -> LiveStreamView {
        let organizationId = try context.organization()
        try LiveStreamRules.check(message.data)
        guard let meeting = try await meetings.meeting(message.data.meetingId, locked: false, in: context.transaction),
              meeting.organizationId == organizationId else {
            throw ConveneError(code: "platform.not_found", message: "no such meeting")
        }
        let view = try await streams.set(message.data, organizationId: organizationId, in: context.transaction)
        try await context.publish(LiveStreamSet(meetingId: view.meetingId, provider: view.provider, watchUrl: view.watchUrl),
                                  organizationId: organizationId)
        return view
    }
}

struct GetLiveStreamHandler: MessageHandler {
    let streams: LiveStreamStore
    let service: String
    var messageType: String { "\(service).get_live_stream" }

    func handle(_ message: Envelope<GetLiveStream>, context: HandlerContext) async throws -> LiveStreamView {
        guard let view = try await streams.get(meetingId: message.data.meetingId, organizationId: try context.organization(),
                                               in: context.transaction) else {
            throw ConveneError(code: "platform.not_found", message: "the meeting has no live stream")
        }
        return view
    }
}
