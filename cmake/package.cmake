# The Debian package (CPack's DEB generator; scripts/package.sh builds it):
#   /usr/bin/smppd, smppctl, smsc-sim
#   /lib/systemd/system/smppd.service
#   /etc/smppd/smppd.yaml, /etc/smppd/smppd.env (conffiles; the env file 0640)
#   /usr/share/doc/smppd/README.md, METRICS.md
#   /usr/share/smppd/grafana/smppd-dashboard.json (to import into Grafana)
#   /usr/share/smppd/prometheus/prometheus.yml, smppd-alerts.yml (scrape
#     configuration and alert rules to copy into Prometheus' own)
# Maintainer scripts (deploy/debian) create the smppd system user and
# /var/lib/smppd; the service is not started. Depends comes from the
# binaries' shared libraries (dpkg-shlibdeps).
#
# The service files go to absolute paths in a component of their own that
# a plain `cmake --install` leaves out: only the package puts files in /etc.
#
# cpack packages what is built (package.sh builds the three binaries)
# rather than first building every target, tests and benchmarks included.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(deploy_dir ${PROJECT_SOURCE_DIR}/deploy)
install(FILES ${deploy_dir}/systemd/smppd.service DESTINATION /lib/systemd/system
        COMPONENT service EXCLUDE_FROM_ALL)
install(FILES ${deploy_dir}/debian/smppd.yaml DESTINATION /etc/smppd
        COMPONENT service EXCLUDE_FROM_ALL)
install(FILES ${deploy_dir}/debian/smppd.env DESTINATION /etc/smppd
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ
        COMPONENT service EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${deploy_dir}/METRICS.md DESTINATION share/doc/smppd
        COMPONENT service EXCLUDE_FROM_ALL)
install(FILES ${deploy_dir}/grafana/smppd-dashboard.json DESTINATION share/smppd/grafana
        COMPONENT service EXCLUDE_FROM_ALL)
install(FILES ${deploy_dir}/prometheus/prometheus.yml ${deploy_dir}/prometheus/smppd-alerts.yml
        DESTINATION share/smppd/prometheus COMPONENT service EXCLUDE_FROM_ALL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME smppd)
set(CPACK_PACKAGE_VENDOR "smppd")
set(CPACK_PACKAGE_CONTACT "smppd developers <smppd@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "SMPP 3.4 engine for bulk campaigns, notifications and replies")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
# One package holding both the binaries (the default component) and the service files.
set(CPACK_COMPONENTS_ALL Unspecified service)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)

set(CPACK_DEBIAN_PACKAGE_NAME smppd)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "SMPP 3.4 engine for bulk campaigns, notifications and replies\n\
smppd sends bulk campaigns and transactional notifications to operators'\n\
SMSCs over SMPP 3.4, with per-operator routing and rate limits, a durable\n\
RocksDB message log, delivery receipts and crash recovery. It runs as a\n\
systemd service, is driven through its HTTP API and smppctl, and comes\n\
with smsc-sim, an SMSC simulator for trials.")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# useradd (postinst).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${deploy_dir}/debian/postinst ${deploy_dir}/debian/prerm ${deploy_dir}/debian/postrm
    ${deploy_dir}/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
