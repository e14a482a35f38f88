#include "exporter/process/version.h"

namespace canary::exporter {

const char* Version() { return CANARY_VERSION; }
const char* Revision() { return CANARY_REVISION; }

}  // namespace canary::exporter
