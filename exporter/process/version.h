// version.h: the build's version and git revision, for
// canary_exporter_build_info and the landing page.
#ifndef CANARY_EXPORTER_PROCESS_VERSION_H_
#define CANARY_EXPORTER_PROCESS_VERSION_H_

namespace canary::exporter {

const char* Version();   // e.g. "0.1.0"
const char* Revision();  // short git hash, or "unknown"

}  // namespace canary::exporter

#endif  // CANARY_EXPORTER_PROCESS_VERSION_H_
