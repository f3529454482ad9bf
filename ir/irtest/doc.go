// Package irtest helps test code that uses package ir, and checks stores.
//
// [Clock] is a fake clock and [IDs] a predictable ID generator, for
// deterministic tests. [TestStore] is the conformance suite every
// implementation of [ir.Store] must pass.
package irtest
