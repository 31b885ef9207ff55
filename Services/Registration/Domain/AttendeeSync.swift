import Contracts
import Foundation

/// The sync of a meeting's attendees with a platform group (a DingTalk department). Pure: the
/// handler gives it the group's current members and the meeting's attendees, and applies the
/// plan it returns in one transaction.
///
/// - A member is matched to an attendee by address, else by DingTalk user id; a matched
///   attendee is updated (name, phone, DingTalk id) and keeps their role, address and source.
/// - An unmatched member with a usable address is added with the requested role and the sync's
///   source; one without (DingTalk often hides addresses) is skipped: invitations are mails.
/// - An attendee whose source is this sync's and who matched no member is removed. Attendees
///   added by hand, by import (no source) or by another group's sync are never removed.
enum AttendeeSync {
    /// An attendee as the plan sees them.
    struct Existing: Equatable {
        var id: UUID
        var email: String
        var name: String
        var dingtalkUserId: String?
        var syncSource: String?
    }

    struct Update: Equatable {
        var id: UUID
        var name: String
        var phone: String?
        var dingtalkUserId: String
    }

    struct Plan: Equatable {
        var add: [AttendeeInput] = []
        var update: [Update] = []
        var remove: [UUID] = []
        /// Skipped members, in the members' order.
        var skipped: [AttendeeSyncReport.Row] = []
    }

    /// `dingtalk_department:<id>`.
    static func sourceKey(source: String, id: String) -> String { "\(source):\(id)" }

    static func plan(members: [AttendeeSyncMember], existing: [Existing], source: String, role: String) -> Plan {
        var plan = Plan()
        var byEmail: [String: Existing] = [:]
        var byUser: [String: Existing] = [:]
        for attendee in existing {
            byEmail[attendee.email] = attendee
            if let user = attendee.dingtalkUserId, byUser[user] == nil { byUser[user] = attendee }
        }
        var matched: Set<UUID> = []
        var addedEmails: Set<String> = []
        var seenUsers: Set<String> = []
        for member in members {
            // A member listed twice (DingTalk pages may overlap) counts once.
            guard seenUsers.insert(member.userId).inserted else { continue }
            let name = member.name.trimmingCharacters(in: .whitespacesAndNewlines)
            let rawEmail = AttendeeRules.optional(member.email)
            let email = rawEmail.flatMap(AttendeeRules.email)
            func skip(_ reason: String, _ message: String) {
                plan.skipped.append(.init(outcome: "skipped", name: name, email: rawEmail, dingtalkUserId: member.userId, attendeeId: nil,
                                          reason: reason, message: message))
            }
            let input = AttendeeInput(name: name, email: email ?? rawEmail ?? "", phone: member.mobile, role: role,
                                      dingtalkUserId: member.userId)
            if let found = email.flatMap({ byEmail[$0] }) ?? byUser[member.userId], !matched.contains(found.id) {
                // Only the fields the platform knows; a member without a usable name keeps the attendee's.
                let clean: AttendeeInput
                switch AttendeeRules.clean(AttendeeInput(name: name.isEmpty ? found.name : name, email: found.email,
                                                         phone: member.mobile, dingtalkUserId: member.userId)) {
                case .success(let value): clean = value
                case .failure(let problem): skip(problem.reason, problem.message); matched.insert(found.id); continue
                }
                matched.insert(found.id)
                plan.update.append(Update(id: found.id, name: clean.name, phone: clean.phone, dingtalkUserId: member.userId))
                continue
            }
            switch AttendeeRules.clean(input) {
            case .failure(let problem):
                let message = problem.reason == "missing_email"
                    ? "the member has no email address on DingTalk, so they cannot be invited" : problem.message
                skip(problem.reason, message)
            case .success(let clean):
                guard byEmail[clean.email] == nil, addedEmails.insert(clean.email).inserted else {
                    skip("duplicate_email", "another member has the same address")
                    continue
                }
                plan.add.append(clean)
            }
        }
        plan.remove = existing.filter { $0.syncSource == source && !matched.contains($0.id) }.map(\.id)
        return plan
    }
}
