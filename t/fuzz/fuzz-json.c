/* Fuzz target: the VKS request bodies: JSON through jansson, then the fields keyward takes from it. */
#include <stdint.h>
#include <string.h>
#include <jansson.h>
#include "addr.h"
#include "token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t err;
	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &err), *a, *v;
	char norm[ADDR_MAX + 1];
	size_t i;

	if (!j)
		return 0;
	if (json_is_object(j)) {
		v = json_object_get(j, "token");
		if (json_is_string(v))
			token_syntax_ok(json_string_value(v));
		a = json_object_get(j, "addresses");
		if (json_is_array(a))
			json_array_foreach(a, i, v)
				if (json_is_string(v))
					addr_normalize(json_string_value(v), json_string_length(v), norm);
		json_string_length(json_object_get(j, "keytext"));
	}
	json_decref(j);
	return 0;
}
