import Synchronization

/// A bounded first-in-first-out buffer between two stages of a task group: ``send(contentsOf:)`` waits
/// while the buffer is full, ``next()`` while it is empty. Unlike a channel without a buffer, elements
/// move without waking anybody while neither side waits: a consumer that finds work takes it at once.
///
/// Its stages are not cancelled (a run drains instead): a waiting call returns only on an element, space,
/// or ``finish()``.
public final class AsyncBuffer<Element: Sendable>: Sendable {
    private struct State {
        var items: [Element] = []
        var head = 0
        var finished = false
        var consumers: [CheckedContinuation<Element?, Never>] = []
        var producers: [CheckedContinuation<Void, Never>] = []

        var count: Int { items.count - head }

        /// A waiting producer, once the buffer is down to half: it then has room for half a buffer at once,
        /// rather than being woken for every element taken.
        mutating func producerToWake(capacity: Int) -> CheckedContinuation<Void, Never>? {
            guard !producers.isEmpty, count <= capacity / 2 else { return nil }
            return producers.removeFirst()
        }

        mutating func pop() -> Element {
            let item = items[head]
            head += 1
            if head >= 1024 || head == items.count {
                items.removeFirst(head)
                head = 0
            }
            return item
        }
    }

    private enum Taken {
        case element(Element, CheckedContinuation<Void, Never>?)
        case end
        case wait
    }

    private let state = Mutex(State())
    /// The most elements the buffer holds before ``send(contentsOf:)`` waits.
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Adds `elements`, waiting for room first while the buffer is full. After ``finish()`` they are dropped.
    public func send(contentsOf elements: [Element]) async {
        var rest = elements[...]
        while !rest.isEmpty {
            await waitForRoom()
            var resumed: [(CheckedContinuation<Element?, Never>, Element)] = []
            let done: Bool = state.withLock { state in
                if state.finished { return true }
                // Waiting consumers get theirs directly; the rest is buffered up to the capacity.
                while !state.consumers.isEmpty, let first = rest.first {
                    resumed.append((state.consumers.removeFirst(), first))
                    rest = rest.dropFirst()
                }
                let room = max(0, capacity - state.count)
                state.items += rest.prefix(room)
                rest = rest.dropFirst(room)
                return false
            }
            for (consumer, element) in resumed { consumer.resume(returning: element) }
            if done { return }
        }
    }

    /// The next element, waiting while the buffer is empty; `nil` once it is finished and empty.
    public func next() async -> Element? {
        let taken: Taken = state.withLock { state in
            if state.count > 0 { return .element(state.pop(), state.producerToWake(capacity: capacity)) }
            return state.finished ? .end : .wait
        }
        switch taken {
        case .element(let element, let producer):
            producer?.resume()
            return element
        case .end:
            return nil
        case .wait:
            return await withCheckedContinuation { consumer in
                let now: Taken = state.withLock { state in
                    if state.count > 0 { return .element(state.pop(), state.producerToWake(capacity: capacity)) }
                    if state.finished { return .end }
                    state.consumers.append(consumer)
                    return .wait
                }
                switch now {
                case .element(let element, let producer):
                    producer?.resume()
                    consumer.resume(returning: element)
                case .end:
                    consumer.resume(returning: nil)
                case .wait:
                    break
                }
            }
        }
    }

    /// No more elements: waiting consumers get `nil` once the buffer is empty, waiting producers return.
    public func finish() {
        let (consumers, producers) = state.withLock { state in
            state.finished = true
            // Consumers wait only while the buffer is empty.
            defer { state.consumers = []; state.producers = [] }
            return (state.consumers, state.producers)
        }
        consumers.forEach { $0.resume(returning: nil) }
        producers.forEach { $0.resume() }
    }

    private func waitForRoom() async {
        if state.withLock({ $0.count < capacity || $0.finished }) { return }
        await withCheckedContinuation { producer in
            let ready = state.withLock { state in
                if state.count < capacity || state.finished { return true }
                state.producers.append(producer)
                return false
            }
            if ready { producer.resume() }
        }
    }
}
