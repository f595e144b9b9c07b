import Appeals
import Testing

@Suite("AsyncBuffer: a bounded buffer between two stages")
struct AsyncBufferTests {
    @Test("every element comes out once, in order, to several consumers, while the producer is held at the capacity")
    func orderAndBackPressure() async {
        let buffer = AsyncBuffer<Int>(capacity: 8)
        let received = await withTaskGroup(of: [Int].self) { group in
            group.addTask {
                for start in stride(from: 0, to: 1000, by: 50) { await buffer.send(contentsOf: Array(start..<(start + 50))) }
                buffer.finish()
                return []
            }
            for _ in 0..<3 {
                group.addTask {
                    var mine: [Int] = []
                    while let value = await buffer.next() { mine.append(value) }
                    return mine
                }
            }
            var all: [[Int]] = []
            for await part in group { all.append(part) }
            return all
        }
        // Each consumer sees its elements in the order they were sent; together they see each exactly once.
        #expect(received.allSatisfy { $0 == $0.sorted() })
        #expect(received.flatMap { $0 }.sorted() == Array(0..<1000))
    }

    @Test("a producer waits while the buffer is full and goes on once consumers have made room")
    func producerWaits() async {
        let buffer = AsyncBuffer<Int>(capacity: 4)
        let producer = Task {
            await buffer.send(contentsOf: Array(0..<10))
            return true
        }
        // Only the capacity fits until someone takes.
        var taken: [Int] = []
        for _ in 0..<10 { taken.append(await buffer.next()!) }
        #expect(await producer.value)
        #expect(taken == Array(0..<10))
        buffer.finish()
        #expect(await buffer.next() == nil)
    }

    @Test("finish wakes waiting consumers with nil and drops what is sent after it")
    func finishWakes() async {
        let buffer = AsyncBuffer<Int>(capacity: 4)
        let waiting = Task { await buffer.next() }
        try? await Task.sleep(for: .milliseconds(20))
        buffer.finish()
        #expect(await waiting.value == nil)
        await buffer.send(contentsOf: [1, 2])
        #expect(await buffer.next() == nil)
    }
}
