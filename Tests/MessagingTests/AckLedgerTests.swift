@testable import Messaging
import Testing

@Suite("Coalesced acknowledgements")
struct AckLedgerTests {
    @Test("finished deliveries at the front are settled by one multiple ack")
    func contiguousRun() {
        var ledger = AckLedger()
        for tag in 1...5 as ClosedRange<UInt64> { ledger.delivered(tag) }
        let result = ledger.acknowledge([3, 1, 2])
        #expect(result.upTo == 3)
        #expect(result.singles.isEmpty)
        #expect(ledger.acknowledge([5]) == (nil, [5]))
        #expect(ledger.acknowledge([4]).upTo == 4, "5 was acked alone; 4 closes the gap")
    }

    @Test("a multiple ack never covers a delivery still in work")
    func gapIsRespected() {
        var ledger = AckLedger()
        for tag in 10...14 as ClosedRange<UInt64> { ledger.delivered(tag) }
        let result = ledger.acknowledge([11, 12, 14])
        #expect(result.upTo == nil, "10 is still in work")
        #expect(result.singles == [11, 12, 14])
        #expect(ledger.acknowledge([10]).upTo == 10)
        #expect(ledger.acknowledge([13]) == (13, []))
    }

    @Test("rejected deliveries are skipped, unknown and repeated tags ignored")
    func rejectsAndStrays() {
        var ledger = AckLedger()
        for tag in 1...3 as ClosedRange<UInt64> { ledger.delivered(tag) }
        ledger.settle(1)
        #expect(ledger.acknowledge([2, 99, 2]) == (2, []))
        #expect(ledger.acknowledge([2]) == (nil, []))
        #expect(ledger.acknowledge([3]) == (3, []))
    }
}
