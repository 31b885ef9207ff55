import Contracts

/// What to do about one meeting on one platform, from what should be and what is. Pure.
enum ProvisioningRules {
    enum Action: Equatable {
        /// The meeting is not on the platform yet.
        case create
        /// It is, but reflects an older plan.
        case update
        /// It is, and should not be.
        case remove
        /// It should not be, and never got there: nothing to call.
        case forget
        /// It is as it should be.
        case nothing
    }

    static func action(desired: String, platformMeetingId: String?, syncedSequence: Int?, planSequence: Int) -> Action {
        switch (desired, platformMeetingId) {
        case ("absent", nil): .forget
        case ("absent", _): .remove
        case (_, nil): .create
        case (_, _?): (syncedSequence ?? -1) < planSequence ? .update : .nothing
        }
    }

    /// Whether an event with `sequence` is news for a meeting last seen at `known`.
    static func isNewer(_ sequence: Int, than known: Int?) -> Bool {
        guard let known else { return true }
        return sequence > known
    }

    /// The platforms of a plan Convene can provision (unknown names and repeats dropped).
    static func platforms(of plan: MeetingPlan) -> [String] {
        var seen: Set<String> = []
        return plan.platforms.filter { MeetingPlatformName.all.contains($0) && seen.insert($0).inserted }
    }
}
