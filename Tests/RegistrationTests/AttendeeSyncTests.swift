import Contracts
import Foundation
@testable import Registration
import Testing

@Suite("Attendee sync from a DingTalk department: the plan")
struct AttendeeSyncTests {
    static let source = "dingtalk_department:42"

    static func id(_ n: Int) -> UUID { UUID(uuidString: String(format: "00000000-0000-4000-8000-%012d", n))! }

    static func member(_ user: String, _ name: String, _ email: String?, mobile: String? = nil) -> AttendeeSyncMember {
        AttendeeSyncMember(userId: user, name: name, email: email, mobile: mobile)
    }

    @Test("a first sync adds every member with an address, with the requested role and their DingTalk id and phone")
    func firstSyncAdds() {
        let plan = AttendeeSync.plan(members: [Self.member("u1", " 张三 ", "ZhangSan@Example.com", mobile: "13800000000"),
                                               Self.member("u2", "李四", "lisi@example.com")],
                                     existing: [], source: Self.source, role: AttendeeRole.optional)
        #expect(plan.add == [
            AttendeeInput(name: "张三", email: "zhangsan@example.com", phone: "13800000000", role: "optional", dingtalkUserId: "u1"),
            AttendeeInput(name: "李四", email: "lisi@example.com", role: "optional", dingtalkUserId: "u2"),
        ])
        #expect(plan.update.isEmpty && plan.remove.isEmpty && plan.skipped.isEmpty)
    }

    @Test("members already attendees (by address, or by DingTalk id when DingTalk hides the address) are updated, not added")
    func knownMembersUpdated() {
        let existing = [
            AttendeeSync.Existing(id: Self.id(1), email: "zhangsan@example.com", name: "张三", dingtalkUserId: nil, syncSource: nil),
            AttendeeSync.Existing(id: Self.id(2), email: "lisi@example.com", name: "李四", dingtalkUserId: "u2", syncSource: Self.source),
        ]
        let plan = AttendeeSync.plan(members: [Self.member("u1", "张三丰", "zhangsan@example.com", mobile: "139"),
                                               Self.member("u2", "李四", nil)],
                                     existing: existing, source: Self.source, role: AttendeeRole.required)
        #expect(plan.add.isEmpty && plan.remove.isEmpty && plan.skipped.isEmpty)
        #expect(plan.update == [AttendeeSync.Update(id: Self.id(1), name: "张三丰", phone: "139", dingtalkUserId: "u1"),
                                AttendeeSync.Update(id: Self.id(2), name: "李四", phone: nil, dingtalkUserId: "u2")])
    }

    @Test("attendees an earlier sync of the same department added who left are removed; hand-added, imported and other departments' attendees stay")
    func leaversRemoved() {
        let existing = [
            AttendeeSync.Existing(id: Self.id(1), email: "stays@example.com", name: "A", dingtalkUserId: "u1", syncSource: Self.source),
            AttendeeSync.Existing(id: Self.id(2), email: "left@example.com", name: "B", dingtalkUserId: "u2", syncSource: Self.source),
            AttendeeSync.Existing(id: Self.id(3), email: "hand@example.com", name: "C", dingtalkUserId: nil, syncSource: nil),
            AttendeeSync.Existing(id: Self.id(4), email: "other@example.com", name: "D", dingtalkUserId: "u4",
                                  syncSource: "dingtalk_department:7"),
        ]
        let plan = AttendeeSync.plan(members: [Self.member("u1", "A", "stays@example.com"), Self.member("u5", "E", "new@example.com")],
                                     existing: existing, source: Self.source, role: AttendeeRole.required)
        #expect(plan.remove == [Self.id(2)])
        #expect(plan.add.map(\.email) == ["new@example.com"])
        #expect(plan.update.map(\.id) == [Self.id(1)])
    }

    @Test("members without an address, with an invalid one or repeating another's are skipped with the reason; a repeated member counts once")
    func skippedMembers() {
        let existing = [AttendeeSync.Existing(id: Self.id(1), email: "taken@example.com", name: "X", dingtalkUserId: "u9", syncSource: nil)]
        let plan = AttendeeSync.plan(members: [
            Self.member("u1", "无邮箱", nil), Self.member("u2", "坏邮箱", "not-an-address"),
            Self.member("u3", "甲", "same@example.com"), Self.member("u4", "乙", "same@example.com"),
            Self.member("u3", "甲", "same@example.com"), Self.member("u5", "", "noname@example.com"),
            Self.member("u9", "X", "taken@example.com"), Self.member("u6", "Y", "taken@example.com"),
        ], existing: existing, source: Self.source, role: AttendeeRole.required)
        #expect(plan.add.map(\.email) == ["same@example.com"])
        #expect(plan.update.map(\.id) == [Self.id(1)])
        #expect(plan.skipped.map(\.dingtalkUserId) == ["u1", "u2", "u4", "u5", "u6"])
        #expect(plan.skipped.map(\.reason) == ["missing_email", "invalid_email", "duplicate_email", "missing_name", "duplicate_email"])
        #expect(plan.skipped.allSatisfy { $0.outcome == "skipped" && $0.attendeeId == nil && $0.message != nil })
        #expect(plan.skipped[0].message?.contains("no email address") == true)
    }

    @Test("an empty department removes every attendee its earlier sync added and nothing else")
    func emptyDepartment() {
        let existing = [
            AttendeeSync.Existing(id: Self.id(1), email: "a@example.com", name: "A", dingtalkUserId: "u1", syncSource: Self.source),
            AttendeeSync.Existing(id: Self.id(2), email: "b@example.com", name: "B", dingtalkUserId: nil, syncSource: nil),
        ]
        let plan = AttendeeSync.plan(members: [], existing: existing, source: Self.source, role: AttendeeRole.required)
        #expect(plan == AttendeeSync.Plan(add: [], update: [], remove: [Self.id(1)], skipped: []))
    }
}
