# Shift-left entry point: evaluates every rule over every rendered object exactly as
# Gatekeeper does at admission (input.review.object, input.parameters).
#
# input: {"objects": [<manifest>...], "rules": {"<rule>": <parameters>}}
package shiprail.kubernetes.shiftleft

violations contains {"rule": name, "index": index, "msg": violation.msg} if {
	some index, obj in input.objects
	some name, parameters in input.rules
	review := {"review": {"object": obj, "kind": {"kind": object.get(obj, "kind", "")}}, "parameters": parameters}
	some violation in data.shiprail.kubernetes.rules[name].violation with input as review
}
