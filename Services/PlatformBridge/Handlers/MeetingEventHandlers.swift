import Contracts
import Foundation
import Persistence

/// Records what platforms a meeting should be on, in the handler's transaction; the provisioning
/// worker does the calls. Nothing here leaves the database, so these may share a batch.
struct MeetingPlanner: Sendable {
    let store = ProvisionStore()

    /// A plan at `sequence` (new, rescheduled, or its platforms changed). Older news is ignored.
    func apply(meetingId: String, sequence: Int, plan: MeetingPlan, context: HandlerContext) async throws {
        let tx = context.transaction
        let known = try await store.meeting(meetingId, locked: true, in: tx)
        guard ProvisioningRules.isNewer(sequence, than: known?.sequence) else {
            context.logger.info("older plan ignored", metadata: ["meetingId": "\(meetingId)", "sequence": "\(sequence)",
                                                                "known": "\(known?.sequence ?? -1)"])
            return
        }
        if known?.cancelled == true {
            context.logger.info("plan of a cancelled meeting ignored", metadata: ["meetingId": "\(meetingId)"])
            return
        }
        let organizationId = context.message.header.organizationId ?? known?.organizationId
        try await store.saveMeeting(meetingId, organizationId: organizationId, sequence: sequence, plan: plan, cancelled: false,
                                    correlationId: context.message.header.correlationId, in: tx)
        let platforms = ProvisioningRules.platforms(of: plan)
        for platform in platforms {
            try await store.want(meetingId, platform: platform, organizationId: organizationId, sequence: sequence, in: tx)
        }
        if known != nil {
            try await store.unwant(meetingId, platforms: platforms, sequence: sequence, in: tx)
        }
    }
}

/// `scheduling.meeting_scheduled`: an enterprise meeting with platforms is provisioned on each.
struct OnMeetingScheduled: MessageHandler {
    let planner = MeetingPlanner()
    var messageType: String { MeetingScheduled.messageType }

    func handle(_ message: Envelope<MeetingScheduled>, context: HandlerContext) async throws -> Empty {
        guard message.data.kind != "conference", let plan = message.data.meeting else { return Empty() }
        try await planner.apply(meetingId: message.data.meetingId, sequence: message.data.sequence, plan: plan, context: context)
        return Empty()
    }
}

/// `scheduling.meeting_updated`: new times or topic are pushed to each platform, added platforms
/// provisioned, removed ones cancelled.
struct OnMeetingUpdated: MessageHandler {
    let planner = MeetingPlanner()
    var messageType: String { MeetingUpdated.messageType }

    func handle(_ message: Envelope<MeetingUpdated>, context: HandlerContext) async throws -> Empty {
        guard message.data.kind != "conference", let plan = message.data.meeting else { return Empty() }
        try await planner.apply(meetingId: message.data.meetingId, sequence: message.data.sequence, plan: plan, context: context)
        return Empty()
    }
}

/// `scheduling.meeting_cancelled`: the meeting is deleted or cancelled on every platform.
struct OnMeetingCancelled: MessageHandler {
    let store = ProvisionStore()
    var messageType: String { MeetingCancelled.messageType }

    func handle(_ message: Envelope<MeetingCancelled>, context: HandlerContext) async throws -> Empty {
        let data = message.data
        guard data.kind != "conference",
              let known = try await store.meeting(data.meetingId, locked: true, in: context.transaction),
              !known.cancelled, data.sequence >= known.sequence else { return Empty() }
        try await store.saveMeeting(data.meetingId, organizationId: known.organizationId, sequence: data.sequence, plan: known.plan,
                                    cancelled: true, correlationId: nil, in: context.transaction)
        try await store.unwant(data.meetingId, platforms: nil, sequence: data.sequence, in: context.transaction)
        return Empty()
    }
}
