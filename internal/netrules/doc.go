// Package netrules owns a registry's network perimeter as pure data and pure
// functions: parsing and normalising IPv4 rules, validating a rule set, the
// network-gate decision of ARCHITECTURE §4 step 3, the text of the denial, and
// the BerthTasks service tags derived from public agent pools.
//
// It must not know about HTTP, storage, tokens or listeners: callers find the
// client address, whether the request came in on a private endpoint and the
// identity kind behind its token, and hand them over as a Request. The gate is
// compiled once per change of a registry's network settings and then read by
// every request without locks or allocations.
package netrules
